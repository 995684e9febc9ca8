"""Writes on action requests: submit, change, approve (four-eyes), reject, cancel, expire, retry.

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

from django.db import transaction
from django.utils import timezone

from offboarding import notifications, permissions, playbooks, runner
from offboarding.audit import audit_record
from offboarding.exceptions import (
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    StaleApproval,
)
from offboarding.models import ActionRequest, Approval, AuditEvent, StepRun
from offboarding.services.targets import TargetInfo, preflight_plan, scope_check, target_lookup

RS = ActionRequest.State
Kind = ActionRequest.Kind


def request_fingerprint(
    *, kind: str, target_okta_id: str, systems: list[str], options: dict
) -> str:
    """SHA-256 over exactly what an approver approves: action, target, systems, options."""
    payload = {
        "kind": kind,
        "target": target_okta_id,
        "systems": sorted(systems),
        "options": {k: options[k] for k in sorted(options)},
    }
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


# A second request for the same action and person while one is open would only ask approvers
# twice and run the same steps twice; a scheduled one does not block an urgent one.
_OPEN_STATES = (RS.DRAFT, RS.PENDING_APPROVAL, RS.APPROVED, RS.RUNNING)


def _refuse_duplicate(*, kind: str, target_okta_id: str) -> None:
    open_request = (
        ActionRequest.objects.filter(
            kind=kind, target_okta_id=target_okta_id, state__in=_OPEN_STATES
        )
        .order_by("id")
        .first()
    )
    if open_request is not None:
        raise InvalidRequest(
            f"Request #{open_request.pk} ({open_request.get_kind_display().lower()} for this "
            f"person) is already {open_request.get_state_display().lower()}: follow it there "
            "instead of asking twice."
        )


def _fingerprint_of(req: ActionRequest) -> str:
    return request_fingerprint(
        kind=req.kind, target_okta_id=req.target_okta_id, systems=req.systems, options=req.options
    )


def _create_steps(req: ActionRequest) -> list[StepRun]:
    planned = playbooks.build_steps(req.kind, systems=req.systems, options=req.options)
    return StepRun.objects.bulk_create(
        StepRun(
            action_request=req,
            key=p.key,
            position=p.position,
            system=p.system,
            operation=p.operation,
            label=p.label,
            options=p.options,
            depends_on=list(p.depends_on),
            after_all=p.after_all,
        )
        for p in planned
    )


def _approve_now(req: ActionRequest, now: datetime) -> None:
    """Pending → approved (or scheduled): create the steps and queue the start, on commit."""
    state = RS.SCHEDULED if req.scheduled_for and req.scheduled_for > now else RS.APPROVED
    moved = ActionRequest.objects.filter(
        pk=req.pk, state=RS.PENDING_APPROVAL, fingerprint=req.fingerprint
    ).update(state=state, approved_at=now, updated_at=now)
    if moved != 1:
        # Somebody else moved it first (a racing approver): our transaction rolls back.
        raise InvalidTransition("This request was decided by someone else a moment ago.")
    req.state, req.approved_at = state, now
    _create_steps(req)
    if state == RS.APPROVED:
        transaction.on_commit(functools.partial(runner.enqueue_start, req.pk))
    transaction.on_commit(functools.partial(notifications.notify_requester, req.pk, "approved"))


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
    requester: Any,
    target_okta_id: str,
    kind: str,
    systems: list[str],
    options: dict[str, Any] | None = None,
    reason: str,
    ticket: str = "",
    scheduled_for: datetime | None = None,
    ip: str = "",
) -> ActionRequest:
    """Make a request: checks role, protection and delegation scope against live Okta, records the
    pre-flight plan, and either waits for approval (mailing the eligible approvers) or — reset
    sessions under a delegation that allows it — is approved at once.

    Raises NotAllowed / OutOfScope / ProtectedTarget / InvalidRequest / InvalidPlaybook /
    TargetLookupFailed.
    """
    if not permissions.can_request(requester):
        raise NotAllowed("Only Helpdesk and Approvers may request actions.")
    if kind not in Kind.values:
        raise InvalidRequest(f"Unknown action “{kind}”.")
    if not (reason or "").strip():
        raise InvalidRequest("Say why: a reason is required.")
    systems = playbooks.normalise_systems(systems)
    options = playbooks.normalise_options(kind, options)
    playbooks.build_steps(kind, systems=systems, options=options)
    target = target_lookup(target_okta_id)
    delegation = scope_check(user=requester, kind=kind, target=target)
    plan = preflight_plan(kind=kind, systems=systems, options=options, target=target.as_target())
    now = timezone.now()
    auto = kind == Kind.RESET_SESSIONS and delegation.reset_sessions_without_approval
    with transaction.atomic():
        _refuse_duplicate(kind=kind, target_okta_id=target.okta_id)
        req = ActionRequest.objects.create(
            kind=kind,
            state=RS.PENDING_APPROVAL,
            **_target_fields(target),
            systems=systems,
            options=options,
            reason=reason.strip(),
            ticket=ticket.strip(),
            plan=plan,
            requester=requester,
            delegation=delegation,
            approver_group=delegation.approver_group,
            approvals_needed=delegation.approvals_needed,
            fingerprint=request_fingerprint(
                kind=kind, target_okta_id=target.okta_id, systems=systems, options=options
            ),
            scheduled_for=_clean_schedule(scheduled_for, now),
            expires_at=now + timedelta(hours=delegation.expiry_hours),
            requested_at=now,
        )
        audit_record(
            action=AuditEvent.Action.REQUEST_SUBMITTED,
            actor=requester,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={
                "kind": kind,
                "systems": systems,
                "options": options,
                "reason": req.reason,
                "ticket": req.ticket,
                "delegation": delegation.name,
                "without_approval": auto,
            },
        )
        if auto:
            req.state_note = f"Runs without approval under the delegation “{delegation.name}”."
            ActionRequest.objects.filter(pk=req.pk).update(state_note=req.state_note)
            _approve_now(req, now)
        else:
            transaction.on_commit(functools.partial(notifications.notify_approvers, req.pk))
    return req


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
    actor: Any,
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


def approvals_counted(req: ActionRequest) -> int:
    """Distinct people whose approval is bound to the request as it stands now."""
    return (
        req.approvals.filter(decision=Approval.Decision.APPROVED, fingerprint=req.fingerprint)
        .exclude(approver_id=req.requester_id)
        .values("approver_id")
        .distinct()
        .count()
    )


def _check_decider(req: ActionRequest, user: Any, now: datetime) -> None:
    if req.requester_id == getattr(user, "pk", None):
        raise NotAllowed("You cannot decide on a request you made yourself (four-eyes).")
    if not permissions.can_decide_request(user, req):
        raise NotAllowed("You are not an approver for this request.")
    if req.state != RS.PENDING_APPROVAL:
        raise InvalidTransition(f"This request is {req.get_state_display().lower()}, not pending.")
    if req.expires_at and req.expires_at <= now:
        raise InvalidTransition("This request has expired and can no longer be approved.")


def action_request_approve(
    *,
    action_request_id: int,
    approver: Any,
    fingerprint: str | None = None,
    comment: str = "",
    ip: str = "",
) -> ActionRequest:
    """Record one approval. When N distinct approvers agree, the request is approved: its steps are
    created in the same transaction and its start is queued on commit.

    `fingerprint` is what the approver saw; if the request changed since, StaleApproval.
    Scope and protection are re-checked against live Okta first.
    """
    now = timezone.now()
    req = ActionRequest.objects.get(pk=action_request_id)
    if req.state == RS.PENDING_APPROVAL and req.expires_at and req.expires_at <= now:
        action_request_expire(action_request_id=req.pk, now=now)
    _check_decider(req, approver, now)
    if fingerprint is not None and fingerprint != req.fingerprint:
        raise StaleApproval("The request changed after you opened it. Review it again.")
    scope_check(user=req.requester, kind=req.kind, target=target_lookup(req.target_okta_id))
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        _check_decider(req, approver, timezone.now())
        if fingerprint is not None and fingerprint != req.fingerprint:
            raise StaleApproval("The request changed after you opened it. Review it again.")
        if req.approvals.filter(approver=approver, fingerprint=req.fingerprint).exists():
            raise NotAllowed("You have already approved this request; one person counts once.")
        Approval.objects.create(
            action_request=req,
            approver=approver,
            decision=Approval.Decision.APPROVED,
            comment=comment.strip(),
            fingerprint=req.fingerprint,
        )
        count = approvals_counted(req)
        audit_record(
            action=AuditEvent.Action.REQUEST_APPROVED,
            actor=approver,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={
                "approvals": count,
                "needed": req.approvals_needed,
                "comment": comment.strip(),
            },
        )
        if count >= req.approvals_needed:
            _approve_now(req, now)
    req.refresh_from_db()
    return req


def action_request_reject(
    *, action_request_id: int, approver: Any, comment: str = "", ip: str = ""
) -> ActionRequest:
    """One eligible approver's rejection ends the request."""
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        _check_decider(req, approver, timezone.now())
        Approval.objects.create(
            action_request=req,
            approver=approver,
            decision=Approval.Decision.REJECTED,
            comment=comment.strip(),
            fingerprint=req.fingerprint,
        )
        moved = ActionRequest.objects.filter(pk=req.pk, state=RS.PENDING_APPROVAL).update(
            state=RS.REJECTED,
            state_note=f"Rejected by {approver.get_username()}"
            + (f": {comment.strip()}" if comment.strip() else "."),
            finished_at=timezone.now(),
        )
        if moved != 1:
            raise InvalidTransition("This request was decided by someone else a moment ago.")
        audit_record(
            action=AuditEvent.Action.REQUEST_REJECTED,
            actor=approver,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={"comment": comment.strip()},
        )
        transaction.on_commit(functools.partial(notifications.notify_requester, req.pk, "rejected"))
    req.refresh_from_db()
    return req


def action_request_cancel(
    *, action_request_id: int, actor: Any, comment: str = "", ip: str = ""
) -> ActionRequest:
    """Requester or an eligible approver stops a request: steps not yet started are cancelled.

    Before running the request ends cancelled; while running, steps already running finish and
    the request's state is then derived from its steps.
    """
    now = timezone.now()
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        if not permissions.can_cancel_request(actor, req):
            raise NotAllowed("Only the requester or an approver of this request may cancel it.")
        if req.state not in (*ActionRequest.NOT_STARTED_STATES, RS.RUNNING):
            raise InvalidTransition(
                f"A {req.get_state_display().lower()} request cannot be cancelled."
            )
        cancelled = StepRun.objects.filter(
            action_request=req,
            status__in=[StepRun.Status.WAITING, StepRun.Status.READY, StepRun.Status.RETRYING],
        ).update(
            status=StepRun.Status.CANCELLED,
            cancel_reason=StepRun.CancelReason.USER,
            detail=f"not run: cancelled by {actor.get_username()}",
            lease_owner="",
            finished_at=now,
            updated_at=now,
        )
        note = f"Cancelled by {actor.get_username()}" + (
            f": {comment.strip()}" if comment.strip() else "."
        )
        if req.state == RS.RUNNING:
            ActionRequest.objects.filter(pk=req.pk).update(state_note=note, updated_at=now)
            runner._finish_if_done(req.pk, now)
        else:
            ActionRequest.objects.filter(pk=req.pk, state=req.state).update(
                state=RS.CANCELLED, state_note=note, finished_at=now, updated_at=now
            )
            transaction.on_commit(
                functools.partial(notifications.notify_requester, req.pk, "cancelled")
            )
        audit_record(
            action=AuditEvent.Action.REQUEST_CANCELLED,
            actor=actor,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={"steps_cancelled": cancelled, "was": req.state, "comment": comment.strip()},
        )
    req.refresh_from_db()
    return req


def action_request_expire(*, action_request_id: int, now: datetime | None = None) -> bool:
    """Pending past its expiry → expired. Returns False when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = ActionRequest.objects.filter(
            pk=action_request_id, state=RS.PENDING_APPROVAL, expires_at__lte=now
        ).update(state=RS.EXPIRED, state_note="Expired before enough approvals.", finished_at=now)
        if not moved:
            return False
        req = ActionRequest.objects.get(pk=action_request_id)
        audit_record(action=AuditEvent.Action.REQUEST_EXPIRED, obj=req, target=req.target_login)
        transaction.on_commit(functools.partial(notifications.notify_requester, req.pk, "expired"))
    return True


def action_request_retry_system(
    *, action_request_id: int, actor: Any, system: str, ip: str = ""
) -> list[int]:
    """Re-run the failed steps of one system (and what waited on them). Returns the step ids
    made ready. Only for a request that ended partially failed or failed.
    """
    now = timezone.now()
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        if not permissions.can_retry_request(actor, req):
            raise NotAllowed("Only the requester or an approver of this request may retry it.")
        if req.state not in (RS.PARTIALLY_FAILED, RS.FAILED) or req.started_at is None:
            raise InvalidTransition("Only a finished request with failed steps can be retried.")
        failed = StepRun.objects.filter(
            action_request=req, system=system, status=StepRun.Status.FAILED
        )
        if not failed.exists():
            raise InvalidTransition(f"No failed steps in {system} to retry.")
        ids = list(failed.values_list("pk", flat=True))
        failed.update(
            status=StepRun.Status.READY,
            attempts=0,
            crash_count=0,
            last_error="",
            detail="",
            outcome="",
            next_attempt_at=None,
            enqueued_at=now,
            finished_at=None,
            updated_at=now,
        )
        StepRun.objects.filter(
            action_request=req,
            status=StepRun.Status.CANCELLED,
            cancel_reason=StepRun.CancelReason.DEPENDENCY,
        ).update(status=StepRun.Status.WAITING, cancel_reason="", detail="", finished_at=None)
        ActionRequest.objects.filter(pk=req.pk).update(
            state=RS.RUNNING,
            finished_at=None,
            state_note=f"Retry of {system} by {actor.get_username()}.",
        )
        ready = ids + runner._advance(req.pk, now)
        audit_record(
            action=AuditEvent.Action.STEP_RETRY_SYSTEM,
            actor=actor,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={"system": system, "steps": ids},
        )
        runner.enqueue_steps_on_commit(ready)
    return ready
