"""The evidence pack of a finished request, downloaded (and the download audited)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from offboarding import permissions
from offboarding.audit import audit_record
from offboarding.evidence import evidence_document, evidence_pack
from offboarding.exceptions import InvalidTransition, NotAllowed
from offboarding.models import ActionRequest, AuditEvent

FORMS = ("json", "page")


def evidence_pack_download(
    *, actor: User, action_request: ActionRequest, form: str, ip: str = ""
) -> dict[str, Any]:
    """The signed evidence document of a finished request, with `EVIDENCE_DOWNLOADED` recorded in
    the same transaction (after the pack is built, so a pack lists the downloads before it).

    Raises NotAllowed (not visible to the actor) or InvalidTransition (not finished yet)."""
    if not permissions.can_view_request(actor, action_request):
        raise NotAllowed("You may not see this request, so not its evidence either.")
    if not action_request.is_final:
        raise InvalidTransition("The evidence pack is ready once the request has finished.")
    with transaction.atomic():
        document = evidence_document(
            evidence_pack(action_request, generated_by=actor.get_username())
        )
        audit_record(
            action=AuditEvent.Action.EVIDENCE_DOWNLOADED,
            actor=actor,
            obj=action_request,
            target=action_request.target_login,
            ip=ip,
            details={
                "request": action_request.pk,
                "form": form if form in FORMS else "json",
                "events": len(document["pack"]["audit_events"]),
                "signature": document["signature"]["value"][:16],
            },
        )
    return document
