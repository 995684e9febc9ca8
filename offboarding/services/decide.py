"""Deciding on a request: approve (four-eyes, N distinct approvers) or reject.

Approval creates the step rows in the same transaction and, with the live check it made moments
before, starts the request there too (its first steps are queued on commit); otherwise it queues the
start on commit.
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from offboarding import notifications, permissions, playbooks
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidTransition, NotAllowed, StaleApproval
from offboarding.models import ActionRequest, Approval, AuditEvent, StepRun
from offboarding.offboard_history import reinstate_step_options
from offboarding.progress import enqueue_start
from offboarding.runner import action_request_expire
from offboarding.runner.start import action_request_start_now
from offboarding.services.guards import ensure_mfa
from offboarding.targets import TargetInfo, live_check_record, scope_check, target_lookup

RS = ActionRequest.State
_RACED = "This request was decided by someone else a moment ago."


def step_runs_create(action_request: ActionRequest) -> list[StepRun]:
    """The request's steps, from its playbook, all waiting. The caller holds a transaction."""
    planned = playbooks.build_steps(
        action_request.kind, systems=action_request.systems, options=action_request.options
    )
    # A reinstate's restore steps get the ids its offboard removed (issue 13).
    extra = reinstate_step_options(action_request)
    return StepRun.objects.bulk_create(
        StepRun(
            action_request=action_request,
            key=p.key,
            position=p.position,
            system=p.system,
            operation=p.operation,
            label=p.label,
            options={**p.options, **extra.get(p.key, {})},
            depends_on=list(p.depends_on),
            after_all=p.after_all,
        )
        for p in planned
    )


def approve_now(
    req: ActionRequest,
    now: datetime,
    checked: TargetInfo | None = None,
    checked_at: datetime | None = None,
    *,
    scope_checked: bool = False,
) -> None:
    """Pending → approved (or scheduled): create the steps, and start the request.

    `checked` is the target as a live check begun at `checked_at` (default `now`) saw it. When it
    is younger than OFFBOARDING_CHECK_REUSE_SECONDS, an approved request starts in this transaction
    (`runner.start.action_request_start_now`: scope and protection checked again, the first steps
    queued on commit); otherwise the start task is queued on commit and reads Okta again. The
    check is stored on the request either way (`ActionRequest.live_check`). `scope_checked`: the
    caller checked scope and protection against `checked` in this transaction (the start need
    not again).
    """
    state = RS.SCHEDULED if req.scheduled_for and req.scheduled_for > now else RS.APPROVED
    check = (
        live_check_record(checked, at=checked_at or now, fingerprint=req.fingerprint)
        if checked
        else {}
    )
    moved = ActionRequest.objects.filter(pk=req.pk, fingerprint=req.fingerprint).transition(
        to=state, fence=RS.PENDING_APPROVAL, at=now, approved_at=now, live_check=check
    )
    if moved != 1:
        # Somebody else moved it first (a racing approver): our transaction rolls back.
        raise InvalidTransition(_RACED)
    req.state, req.approved_at = state, now
    step_runs_create(req)
    if state == RS.APPROVED:
        if checked is not None and _fresh(checked_at or now, now):
            # The live check was just made: start here, in this transaction, and queue the first
            # steps on commit (no start task that would only check the same reading again).
            action_request_start_now(req=req, target=checked, now=now, scope_checked=scope_checked)
        else:
            transaction.on_commit(functools.partial(enqueue_start, req.pk))
    if req.origin != ActionRequest.Origin.BREAK_GLASS:
        # A responder's break-glass run was approved by nobody (approvers review it afterwards):
        # they are not told "approved"; they hear when it ends, like any requester.
        transaction.on_commit(functools.partial(notifications.notify_requester, req.pk, "approved"))


def _fresh(checked_at: datetime, now: datetime) -> bool:
    """A live check recent enough for the approval to start the request on it (younger than
    OFFBOARDING_CHECK_REUSE_SECONDS; 0 turns starting at approval off)."""
    age = (now - checked_at).total_seconds()
    return 0 <= age < settings.OFFBOARDING_CHECK_REUSE_SECONDS


def approvals_counted(req: ActionRequest) -> int:
    """Distinct people whose approval is bound to the request as it stands now."""
    return (
        req.approvals.filter(decision=Approval.Decision.APPROVED, fingerprint=req.fingerprint)
        .exclude(approver_id=req.requester_id)
        .values("approver_id")
        .distinct()
        .count()
    )


def _check_decider(req: ActionRequest, user: User, now: datetime) -> None:
    if req.requester_id == user.pk:
        raise NotAllowed("You cannot decide on a request you made yourself (four-eyes).")
    if not permissions.can_decide_request(user, req):
        raise NotAllowed("You are not an approver for this request.")
    ensure_mfa(user)
    if req.state != RS.PENDING_APPROVAL:
        raise InvalidTransition(f"This request is {req.get_state_display().lower()}, not pending.")
    if req.expires_at and req.expires_at <= now:
        raise InvalidTransition("This request has expired and can no longer be approved.")


def _check_fingerprint(req: ActionRequest, fingerprint: str | None) -> None:
    if fingerprint is not None and fingerprint != req.fingerprint:
        raise StaleApproval("The request changed after you opened it. Review it again.")


def action_request_approve(
    *,
    action_request_id: int,
    approver: User,
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
    _check_fingerprint(req, fingerprint)
    target = target_lookup(req.target_okta_id)
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        _check_decider(req, approver, timezone.now())
        _check_fingerprint(req, fingerprint)
        # Scope and protection against the live reading, in the transaction that may start the
        # request: nothing can change in between, so the start need not check them again.
        scope_check(user=req.requester, kind=req.kind, target=target)
        if req.approvals.filter(approver=approver, fingerprint=req.fingerprint).exists():
            raise NotAllowed("You have already approved this request; one person counts once.")
        count = _record_approval(req, approver, comment=comment.strip(), ip=ip)
        if count >= req.approvals_needed:
            approve_now(req, now, checked=target, scope_checked=True)
    req.refresh_from_db()
    return req


def _record_approval(req: ActionRequest, approver: User, *, comment: str, ip: str) -> int:
    """One approval bound to the request as it stands, audited; returns the approvals counted."""
    Approval.objects.create(
        action_request=req,
        approver=approver,
        decision=Approval.Decision.APPROVED,
        comment=comment,
        fingerprint=req.fingerprint,
    )
    count = approvals_counted(req)
    audit_record(
        action=AuditEvent.Action.REQUEST_APPROVED,
        actor=approver,
        obj=req,
        target=req.target_login,
        ip=ip,
        details={"approvals": count, "needed": req.approvals_needed, "comment": comment},
    )
    return count


def action_request_reject(
    *, action_request_id: int, approver: User, comment: str = "", ip: str = ""
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
        moved = ActionRequest.objects.filter(pk=req.pk).transition(
            to=RS.REJECTED,
            fence=RS.PENDING_APPROVAL,
            state_note=f"Rejected by {approver.get_username()}"
            + (f": {comment.strip()}" if comment.strip() else "."),
            finished_at=timezone.now(),
        )
        if moved != 1:
            raise InvalidTransition(_RACED)
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
