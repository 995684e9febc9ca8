"""System checks for production essentials that settings alone cannot refuse."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def check_production_essentials(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if not settings.DEBUG and not settings.PORTAL_AUDIT_KEY:
        errors.append(
            Error(
                "PORTAL_AUDIT_KEY is not set: the audit chain cannot be signed.",
                hint="Set PORTAL_AUDIT_KEY (or PORTAL_AUDIT_KEY_FILE) to a long random value.",
                id="portal.E001",
            )
        )
    if not settings.DEBUG and settings.PORTAL_SANDBOX:
        errors.append(
            Error(
                "PORTAL_SANDBOX is on while DEBUG is off: connectors may reach loopback URLs.",
                hint="Switch PORTAL_SANDBOX off in production.",
                id="portal.E002",
            )
        )
    if not settings.DEBUG and not settings.PORTAL_AUDIT_CHECKPOINT_SINK:
        errors.append(
            CheckWarning(
                "PORTAL_AUDIT_CHECKPOINT_SINK is not set: nothing outside the database can prove "
                "how long the audit trail was.",
                hint="Send signed checkpoints to file:/path (another host's mount), syslog or a SIEM.",
                id="portal.W001",
            )
        )
    return errors
