"""Bulk requests, second half: one approval for the whole batch (four-eyes, N distinct approvers),
rejecting it, and retrying its failed rows.

Approving creates one ActionRequest per found row (origin "bulk", `batch` set) with its steps, in
the same transaction, and **releases them at a pace**: request i is scheduled for
`now + i × 60 / OFFBOARDING_BULK_PER_MINUTE` seconds (or the row's own later `scheduled_for`).
The sweeper starts each when its time comes, so the broker never holds more than a few of the
batch's tasks and the systems' rate buckets keep room: a single urgent request submitted meanwhile
queues behind a handful of batch tasks, not thousands, and finds calls left in each bucket. Each
request's start still re-checks the person live (scope, protection), as for any request.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from offboarding import permissions
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidTransition, NotAllowed, OffboardingError, StaleApproval
from offboarding.models import (
    ActionRequest,
    Approval,
    AuditEvent,
    Batch,
    BatchDecision,
    BatchRow,
    StepRun,
)
from offboarding.playbooks import build_steps
from offboarding.progress import enqueue_start
from offboarding.services.bulk import open_requests_for
from offboarding.services.guards import ensure_mfa
from offboarding.services.retry import action_request_retry_system
from offboarding.services.submit import request_fingerprint

BS = Batch.State
RS = ActionRequest.State


def release_spacing() -> float:
    """Seconds between two of a batch's requests starting."""
    return 60.0 / max(1, int(settings.OFFBOARDING_BULK_PER_MINUTE))


def _check_decider(batch: Batch, user: User, now: datetime) -> None:
    if batch.requester_id == user.pk:
        raise NotAllowed("You cannot decide on a batch you submitted yourself (four-eyes).")
    if not permissions.can_decide_batch(user, batch):
        raise NotAllowed("You are not an approver for this batch.")
    ensure_mfa(user)
    if batch.state != BS.PENDING_APPROVAL:
        raise InvalidTransition(f"This batch is {batch.get_state_display().lower()}, not pending.")
    if batch.expires_at and batch.expires_at <= now:
        raise InvalidTransition("This batch has expired and can no longer be approved.")


def batch_approve(
    *, batch_id: int, approver: User, fingerprint: str, comment: str = "", ip: str = ""
) -> Batch:
    """Record one approval of the batch as the approver saw it (`fingerprint`); with enough
    distinct approvers the batch is approved and its requests are created and released."""
    now = timezone.now()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        _check_decider(batch, approver, now)
        if fingerprint != batch.fingerprint:
            raise StaleApproval("The batch changed after you opened it. Review it again.")
        if batch.decisions.filter(approver=approver, fingerprint=batch.fingerprint).exists():
            raise NotAllowed("You have already approved this batch; one person counts once.")
        BatchDecision.objects.create(
            batch=batch,
            approver=approver,
            decision=BatchDecision.Decision.APPROVED,
            comment=comment.strip(),
            fingerprint=batch.fingerprint,
        )
        count = (
            batch.decisions.filter(decision=BatchDecision.Decision.APPROVED)
            .exclude(approver_id=batch.requester_id)
            .values("approver_id")
            .distinct()
            .count()
        )
        details = {"approvals": count, "needed": batch.approvals_needed, "comment": comment}
        if count >= batch.approvals_needed:
            details.update(_release(batch, now))
        audit_record(
            action=AuditEvent.Action.BATCH_APPROVED,
            actor=approver,
            obj=batch,
            ip=ip,
            details=details,
        )
    return batch


def _release(batch: Batch, now: datetime) -> dict[str, int]:
    """Pending → approved: one scheduled request per found row, paced; returns what it made."""
    rows = list(batch.rows.filter(verdict=BatchRow.Verdict.FOUND).select_related("delegation"))
    opened = open_requests_for(batch.kind, [r.okta_id for r in rows])
    late = [r for r in rows if r.okta_id in opened]
    for r in late:  # a request for the same person was opened after the preview
        r.verdict = BatchRow.Verdict.OPEN_REQUEST
        r.detail = f"request #{opened[r.okta_id]} was opened after the preview"
    BatchRow.objects.bulk_update(late, ["verdict", "detail"], batch_size=1000)
    rows = [r for r in rows if r.okta_id not in opened]
    spacing = release_spacing()
    made = [
        _request_for(batch, r, now, now + timedelta(seconds=i * spacing))
        for i, r in enumerate(rows)
    ]
    ActionRequest.objects.bulk_create(made, batch_size=500)
    for row, req in zip(rows, made, strict=True):
        row.action_request = req
    BatchRow.objects.bulk_update(rows, ["action_request"], batch_size=1000)
    _create_steps(batch, made)
    _record_approvals(batch, made)
    batch.state, batch.decided_at = BS.APPROVED, now
    batch.state_note = f"{len(made)} requests released, one every {spacing:g} s."
    batch.save(update_fields=["state", "decided_at", "state_note", "updated_at"])
    for req in made:
        if req.scheduled_for and req.scheduled_for <= now:
            transaction.on_commit(functools.partial(enqueue_start, req.pk))
    return {
        "requests": len(made),
        "skipped_open": len(late),
        "first_request": made[0].pk if made else 0,
        "last_request": made[-1].pk if made else 0,
    }


def _request_for(batch: Batch, row: BatchRow, now: datetime, slot: datetime) -> ActionRequest:
    when = max(slot, row.scheduled_for) if row.scheduled_for else slot
    delegation = row.delegation
    return ActionRequest(
        kind=batch.kind,
        state=RS.SCHEDULED,
        state_note=f"Part of batch #{batch.pk}: starts at its turn.",
        target_okta_id=row.okta_id,
        target_login=row.login,
        target_name=row.name,
        target_email=row.email,
        target_status=row.status,
        target_profile=row.profile,
        systems=batch.systems,
        options=batch.options,
        reason=row.reason or batch.reason,
        ticket=row.ticket or batch.ticket,
        origin=ActionRequest.Origin.BULK,
        origin_detail=f"batch #{batch.pk}",
        batch=batch,
        requester_id=batch.requester_id,
        delegation=delegation,
        approver_group_id=batch.approver_group_id,
        approvals_needed=batch.approvals_needed,
        fingerprint=request_fingerprint(
            kind=batch.kind,
            target_okta_id=row.okta_id,
            systems=batch.systems,
            options=batch.options,
        ),
        scheduled_for=when,
        requested_at=batch.submitted_at or now,
        approved_at=now,
    )


def _create_steps(batch: Batch, made: list[ActionRequest]) -> None:
    planned = build_steps(batch.kind, systems=batch.systems, options=batch.options)
    StepRun.objects.bulk_create(
        (
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
            for req in made
            for p in planned
        ),
        batch_size=1000,
    )


def _record_approvals(batch: Batch, made: list[ActionRequest]) -> None:
    """Each request shows who approved it: the batch's approvers, bound to its fingerprint."""
    decisions = list(batch.decisions.filter(decision=BatchDecision.Decision.APPROVED))
    Approval.objects.bulk_create(
        (
            Approval(
                action_request=req,
                approver_id=d.approver_id,
                decision=Approval.Decision.APPROVED,
                comment=f"Approved with batch #{batch.pk}"
                + (f": {d.comment}" if d.comment else ""),
                fingerprint=req.fingerprint,
            )
            for req in made
            for d in decisions
        ),
        batch_size=1000,
    )


def batch_reject(*, batch_id: int, approver: User, comment: str = "", ip: str = "") -> Batch:
    """One eligible approver's rejection ends the batch; no request is created."""
    now = timezone.now()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        _check_decider(batch, approver, now)
        BatchDecision.objects.create(
            batch=batch,
            approver=approver,
            decision=BatchDecision.Decision.REJECTED,
            comment=comment.strip(),
            fingerprint=batch.fingerprint,
        )
        batch.state, batch.decided_at = BS.REJECTED, now
        batch.state_note = f"Rejected by {approver.get_username()}" + (
            f": {comment.strip()}" if comment.strip() else "."
        )
        batch.save(update_fields=["state", "decided_at", "state_note", "updated_at"])
        audit_record(
            action=AuditEvent.Action.BATCH_REJECTED,
            actor=approver,
            obj=batch,
            ip=ip,
            details={"comment": comment.strip(), "counts": batch.counts},
        )
    return batch


def batch_retry_failed(*, batch_id: int, actor: User, ip: str = "") -> tuple[int, list[str]]:
    """Run the failed steps of every finished-with-failures request of the batch again (each
    through `action_request_retry_system`, audited per request). Returns (systems retried, the
    refusals in words)."""
    batch = Batch.objects.get(pk=batch_id)
    if not permissions.can_retry_batch(actor, batch):
        raise NotAllowed("Only the requester or an approver of this batch may retry it.")
    failed = (
        StepRun.objects.filter(
            action_request__batch_id=batch_id,
            action_request__state__in=(RS.FAILED, RS.PARTIALLY_FAILED),
            status=StepRun.Status.FAILED,
        )
        .values_list("action_request_id", "system")
        .distinct()
    )
    retried, refusals = 0, []
    for request_id, system in sorted(set(failed)):
        try:
            action_request_retry_system(
                action_request_id=request_id, actor=actor, system=system, ip=ip
            )
            retried += 1
        except OffboardingError as exc:
            refusals.append(f"#{request_id}: {exc.message}")
    return retried, refusals
