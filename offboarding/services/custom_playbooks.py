"""Custom playbooks (issue 17): import an Arazzo document as a new version; audit exports.

Importing is for Connection admins. The document is read again here, whatever a preview said,
so what is saved is what the checks passed; each import of a name makes its next version, with
a kind of its own, so requests made on an earlier version keep the plan they were approved for.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from offboarding import permissions
from offboarding.arazzo.importer import import_document
from offboarding.arazzo.registry import new_kind
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest, NotAllowed
from offboarding.models import ActionRequest, AuditEvent, CustomPlaybook, CustomPlaybookVersion
from offboarding.services.guards import ensure_mfa

MAX_NAME = 120


@transaction.atomic
def custom_playbook_import(
    *,
    actor: User | None,
    name: str,
    text: str,
    dropped_before: list[str] | None = None,
    actor_label: str = "",
    ip: str = "",
) -> CustomPlaybookVersion:
    """Save the document as the next version of the custom playbook `name` (new when unknown).
    `actor` None is the command line (`actor_label` says so). `dropped_before`: what a preview
    already removed from the document (the page sends back the document without it). Raises NotAllowed, InvalidRequest,
    InvalidPlaybook (in words, naming the step)."""
    if actor is not None:
        if not permissions.can_import_playbooks(actor):
            raise NotAllowed("Only Connection admins may import playbooks.")
        ensure_mfa(actor)
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise InvalidRequest(f"Give the playbook a name (at most {MAX_NAME} characters).")
    imported = import_document(text)
    playbook, _ = CustomPlaybook.objects.select_for_update().get_or_create(
        name=name, defaults={"created_by": actor}
    )
    latest = playbook.versions.order_by("-number").first()
    number = (latest.number + 1) if latest else 1
    version = CustomPlaybookVersion.objects.create(
        playbook=playbook,
        number=number,
        kind=new_kind(number),
        title=imported.title[:200],
        document=imported.document,
        steps=imported.steps_json(),
        options=imported.options,
        notices=list(dict.fromkeys([*(dropped_before or []), *imported.notices])),
        imported_by=actor,
        imported_by_label=actor.get_username() if actor else actor_label,
    )
    audit_record(
        action=AuditEvent.Action.PLAYBOOK_IMPORTED,
        actor=actor,
        actor_label=actor_label,
        obj=version,
        ip=ip,
        details={
            "name": name,
            "version": number,
            "kind": version.kind,
            "steps": [f"{s.system}.{s.operation}" for s in imported.steps],
            "dropped": len(imported.notices),
        },
    )
    return version


@transaction.atomic
def playbook_export_record(
    *,
    actor: User | None,
    kind: str,
    action_request: ActionRequest | None = None,
    actor_label: str = "",
    ip: str = "",
) -> None:
    """Audit one download of a playbook (or of a request's plan) as an Arazzo document.
    `actor` None is the command line."""
    if actor is not None and action_request is not None:
        if not permissions.can_view_request(actor, action_request):
            raise NotAllowed("You cannot see this request.")
    elif actor is not None and not permissions.can_export_playbooks(actor):
        raise NotAllowed("Your role cannot export playbooks.")
    audit_record(
        action=AuditEvent.Action.PLAYBOOK_EXPORTED,
        actor=actor,
        actor_label=actor_label,
        obj=action_request,
        object_type="" if action_request else "playbook",
        object_id="" if action_request else kind,
        ip=ip,
        details={"kind": kind, "format": "arazzo-1.0"},
    )
