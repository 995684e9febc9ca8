"""Making a request and changing it while it waits: submit (with its live checks) and change.

Each service is keyword-only, re-reads and locks its row, refuses invalid transitions with a domain
error, writes its audit event in the same transaction and queues work with on_commit. Live Okta
reads (scope, protection, pre-flight) happen before the transaction opens, never inside it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from offboarding import notifications, permissions, playbooks, selectors
from offboarding.audit import audit_record
from offboarding.exceptions import (
    DuplicateRequest,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
)
from offboarding.models import ActionRequest, Approval, AuditEvent, Delegation
from offboarding.offboard_history import history_annotate, repeat_offboard_words
from offboarding.services.decide import approve_now
from offboarding.services.guards import ensure_mfa
from offboarding.targets import TargetInfo, preflight_plan, scope_check, target_lookup

RS = ActionRequest.State
Kind = ActionRequest.Kind


def request_fingerprint(
    *,
    kind: str,
    target_okta_id: str,
    systems: list[str],
    options: dict,
    undoes: int | None = None,
) -> str:
    """SHA-256 over exactly what an approver approves: action, target, systems, options (and, for
    a reinstate, the offboard it undoes)."""
    payload: dict[str, Any] = {
        "kind": kind,
        "target": target_okta_id,
        "systems": sorted(systems),
        "options": {k: options[k] for k in sorted(options)},
    }
    if undoes is not None:
        payload["undoes"] = undoes
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _refuse_duplicate(*, kind: str, target_okta_id: str) -> None:
    """A second open request for the same action and person would only ask approvers twice and run
    the same steps twice (`ActionRequest.OPEN_STATES`; a scheduled one does not block)."""
    open_request = selectors.open_twin(kind=kind, target_okta_id=target_okta_id)
    if open_request is not None:
        raise DuplicateRequest(
            f"Request #{open_request.pk} ({open_request.get_kind_display().lower()} for this "
            f"person) is already {open_request.get_state_display().lower()}: follow it there "
            "instead of asking twice.",
            existing_id=open_request.pk,
        )


def _create_once(**fields: Any) -> ActionRequest:
    """Insert the request. A twin submitted at the same instant that committed first makes the
    unique index refuse this one; the refusal then names the twin, as the check before does."""
    try:
        with transaction.atomic():
            return ActionRequest.objects.create(**fields)
    except IntegrityError:
        _refuse_duplicate(kind=fields["kind"], target_okta_id=fields["target_okta_id"])
        raise


def _fingerprint_of(req: ActionRequest) -> str:
    return request_fingerprint(
        kind=req.kind,
        target_okta_id=req.target_okta_id,
        systems=req.systems,
        options=req.options,
        undoes=req.undoes_id,
    )


def _clean_schedule(scheduled_for: datetime | None, now: datetime) -> datetime | None:
    if scheduled_for is None:
        return None
    if timezone.is_naive(scheduled_for):
        raise InvalidRequest("The scheduled time needs a time zone.")
    if scheduled_for <= now:
        return None
    return scheduled_for


def action_request_submit(
    *,
    requester: User,
    target_okta_id: str,
    kind: str,
    systems: list[str],
    options: dict[str, Any] | None = None,
    reason: str,
    ticket: str = "",
    scheduled_for: datetime | None = None,
    ip: str = "",
    origin: str = ActionRequest.Origin.PORTAL,
    origin_detail: str = "",
    confirm_repeat: bool = False,
) -> ActionRequest:
    """Make a request: checks role, protection and delegation scope against live Okta, records the
    pre-flight plan, and either waits for approval (mailing the eligible approvers) or — reset
    sessions under a delegation that allows it — is approved at once.

    Raises NotAllowed / OutOfScope / ProtectedTarget / InvalidRequest / InvalidPlaybook /
    TargetLookupFailed.
    """
    systems, options = _checked_choices(
        requester=requester, kind=kind, systems=systems, options=options, reason=reason
    )
    checked_at = timezone.now()
    target = target_lookup(target_okta_id)
    delegation = scope_check(user=requester, kind=kind, target=target)
    plan = preflight_plan(kind=kind, systems=systems, options=options, target=target.as_target())
    earlier = history_annotate(kind=kind, plan=plan, target_okta_id=target.okta_id)
    undoes = earlier if kind == Kind.REINSTATE else None
    if kind == Kind.OFFBOARD and earlier is not None and not confirm_repeat:
        # Never a silent "already done" everywhere: whoever asks again must say they mean it.
        raise InvalidRequest(
            f"{repeat_offboard_words(earlier)} Confirm that you want to offboard them again."
        )
    now = timezone.now()
    auto = kind == Kind.RESET_SESSIONS and delegation.reset_sessions_without_approval
    with transaction.atomic():
        _refuse_duplicate(kind=kind, target_okta_id=target.okta_id)
        req = _create_once(
            kind=kind,
            state=RS.PENDING_APPROVAL,
            state_note=(
                f"Runs without approval under the delegation “{delegation.name}”." if auto else ""
            ),
            **_target_fields(target),
            systems=systems,
            options=options,
            reason=reason.strip(),
            ticket=ticket.strip(),
            origin=origin,
            origin_detail=origin_detail[:200],
            plan=plan,
            requester=requester,
            delegation=delegation,
            approver_group=delegation.approver_group,
            approvals_needed=delegation.approvals_needed,
            undoes=undoes,
            fingerprint=request_fingerprint(
                kind=kind,
                target_okta_id=target.okta_id,
                systems=systems,
                options=options,
                undoes=undoes.pk if undoes else None,
            ),
            scheduled_for=_clean_schedule(scheduled_for, now),
            expires_at=now + timedelta(hours=delegation.expiry_hours),
            requested_at=now,
        )
        _audit_submitted(req, ip=ip, delegation=delegation, auto=auto, earlier=earlier)
        if auto:
            approve_now(req, now, checked=target, checked_at=checked_at)
        else:
            transaction.on_commit(functools.partial(notifications.notify_approvers, req.pk))
    return req


def _checked_choices(
    *,
    requester: User,
    kind: str,
    systems: list[str],
    options: dict[str, Any] | None,
    reason: str,
) -> tuple[list[str], dict[str, Any]]:
    """The systems and options as the playbook reads them; refuses what cannot be asked."""
    if not permissions.can_request(requester):
        raise NotAllowed("Only Helpdesk and Approvers may request actions.")
    ensure_mfa(requester)
    if not playbooks.is_kind(kind):
        raise InvalidRequest(f"Unknown action “{kind}”.")
    if not (reason or "").strip():
        raise InvalidRequest("Say why: a reason is required.")
    systems = playbooks.normalise_systems(systems)
    options = playbooks.normalise_options(kind, options)
    playbooks.build_steps(kind, systems=systems, options=options)
    return systems, options


def _audit_submitted(
    req: ActionRequest,
    *,
    ip: str,
    delegation: Delegation,
    auto: bool,
    earlier: ActionRequest | None = None,
) -> None:
    audit_record(
        action=AuditEvent.Action.REQUEST_SUBMITTED,
        actor=req.requester,
        obj=req,
        target=req.target_login,
        ip=ip,
        details={
            "kind": req.kind,
            "systems": req.systems,
            "options": req.options,
            "reason": req.reason,
            "ticket": req.ticket,
            "delegation": delegation.name,
            "without_approval": auto,
            "origin": req.origin,
            "origin_detail": req.origin_detail,
            "undoes": req.undoes_id,
            # An offboard of someone this portal already offboarded (the form asked to confirm).
            "repeats": earlier.pk if earlier and req.kind == Kind.OFFBOARD else None,
        },
    )


def _target_fields(target: TargetInfo) -> dict[str, Any]:
    return {
        "target_okta_id": target.okta_id,
        "target_login": target.login,
        "target_name": target.name,
        "target_email": target.email,
        "target_status": target.status,
        "target_profile": target.profile,
    }


def action_request_change(
    *,
    action_request_id: int,
    actor: User,
    systems: list[str] | None = None,
    options: dict[str, Any] | None = None,
    reason: str | None = None,
    ticket: str | None = None,
    ip: str = "",
) -> ActionRequest:
    """The requester edits a pending request. A change to what is approved voids earlier approvals."""
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        if not permissions.can_change_request(actor, req):
            raise NotAllowed("Only the requester may change a request.")
        ensure_mfa(actor)
        if req.state != RS.PENDING_APPROVAL:
            raise InvalidTransition(
                f"A {req.get_state_display().lower()} request cannot be changed."
            )
        if systems is not None:
            req.systems = playbooks.normalise_systems(systems)
        if options is not None:
            req.options = playbooks.normalise_options(req.kind, options)
        playbooks.build_steps(req.kind, systems=req.systems, options=req.options)
        if reason is not None:
            if not reason.strip():
                raise InvalidRequest("Say why: a reason is required.")
            req.reason = reason.strip()
        if ticket is not None:
            req.ticket = ticket.strip()
        old = req.fingerprint
        req.fingerprint = _fingerprint_of(req)
        voided = (
            req.approvals.filter(fingerprint=old, decision=Approval.Decision.APPROVED).count()
            if req.fingerprint != old
            else 0
        )
        req.save(
            update_fields=["systems", "options", "reason", "ticket", "fingerprint", "updated_at"]
        )
        audit_record(
            action=AuditEvent.Action.REQUEST_CHANGED,
            actor=actor,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={"systems": req.systems, "options": req.options, "approvals_voided": voided},
        )
        if voided:
            transaction.on_commit(functools.partial(notifications.notify_approvers, req.pk))
    return req
