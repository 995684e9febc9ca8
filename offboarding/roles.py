"""The portal's roles. Each is a Django group, created by a data migration."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    HELPDESK = "Helpdesk", "Helpdesk"
    APPROVER = "Approver", "Approver"
    AUDITOR = "Auditor", "Auditor"
    CONNECTION_ADMIN = "Connection admin", "Connection admin"
    # Issue 14: runs reset sessions and an offboard's lock steps at once in an incident.
    RESPONDER = "Responder", "Responder"
