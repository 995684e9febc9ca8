"""Bulk requests, second half: one approval for the whole batch (four-eyes, N distinct approvers),
rejecting it, and retrying its failed rows.

Approving queues a task (`tasks.release_batch`) that creates one ActionRequest per found row
(origin "bulk", `batch` set) with its steps and approvals, 1,000 per run so that no task nor web
request holds a transaction for minutes, and **releases them at a pace**: request i is scheduled for
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

from offboarding import permissions, progress
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
RELEASE_CHUNK = 1000  # requests made per task run (a 13-step offboard: 13,000 step rows)


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
            details.update(_approve_batch(batch, now))
        audit_record(
            action=AuditEvent.Action.BATCH_APPROVED,
            actor=approver,
            obj=batch,
            ip=ip,
            details=details,
        )
    return batch


def _approve_batch(batch: Batch, now: datetime) -> dict[str, int]:
    """Pending → approved; the requests are created by `batch_release` in a task, on commit."""
    batch.state, batch.decided_at = BS.APPROVED, now
    batch.state_note = f"Releasing {batch.valid_count} requests, one every {release_spacing():g} s."
    batch.save(update_fields=["state", "decided_at", "state_note", "updated_at"])
    transaction.on_commit(functools.partial(enqueue_release, batch.pk))
    return {"requests_to_release": batch.valid_count}


def enqueue_release(batch_id: int) -> None:
    progress.queue_task("offboarding.tasks.release_batch", batch_id)


def batch_release(*, batch_id: int, limit: int = RELEASE_CHUNK) -> int:
    """Create the next `limit` requests of an approved batch (one per found row not yet made),
    with their steps and approvals, each scheduled at its slot `decided_at + i × spacing`.
    Idempotent (rows already released are skipped); returns how many rows remain."""
    now = timezone.now()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.state != BS.APPROVED:
            return 0
        pending = batch.rows.filter(verdict=BatchRow.Verdict.FOUND, action_request__isnull=True)
        rows = list(pending.select_related("delegation").order_by("line", "id")[:limit])
        rows = _without_late_twins(batch, rows)
        released = ActionRequest.objects.filter(batch=batch).count()
        base, spacing = batch.decided_at or now, release_spacing()
        made = [
            _request_for(batch, r, now, base + timedelta(seconds=(released + i) * spacing))
            for i, r in enumerate(rows)
        ]
        ActionRequest.objects.bulk_create(made, batch_size=500)
        for row, req in zip(rows, made, strict=True):
            BatchRow.objects.filter(pk=row.pk).update(action_request_id=req.pk)
        _create_steps(batch, made)
        _record_approvals(batch, made)
        remaining = pending.count()
        total = released + len(made)
        batch.state_note = (
            f"Releasing: {total} requests made, {remaining} to go; one starts every {spacing:g} s."
            if remaining
            else f"{total} requests released, one every {spacing:g} s."
        )
        batch.save(update_fields=["state_note", "updated_at"])
        for req in made:
            if req.scheduled_for and req.scheduled_for <= now:
                transaction.on_commit(functools.partial(enqueue_start, req.pk))
    return remaining


def _without_late_twins(batch: Batch, rows: list[BatchRow]) -> list[BatchRow]:
    """Rows whose person got an open request after the preview get no second one."""
    opened = open_requests_for(batch.kind, [r.okta_id for r in rows])
    for r in rows:
        if r.okta_id in opened:
            BatchRow.objects.filter(pk=r.pk).update(
                verdict=BatchRow.Verdict.OPEN_REQUEST,
                detail=f"request #{opened[r.okta_id]} was opened after the preview",
            )
    return [r for r in rows if r.okta_id not in opened]


def batches_release_stalled(*, older_than: float | None = None) -> int:
    """Queue the release again for approved batches with rows still to release whose last
    progress is older than `older_than` seconds (a lost or killed task). Returns how many."""
    age = settings.OFFBOARDING_REQUEUE_AFTER if older_than is None else older_than
    stalled = (
        Batch.objects.filter(
            state=BS.APPROVED,
            updated_at__lte=timezone.now() - timedelta(seconds=age),
            rows__verdict=BatchRow.Verdict.FOUND,
            rows__action_request__isnull=True,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    ids = list(stalled[:100])
    for pk in ids:
        enqueue_release(pk)
    return len(ids)


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
