"""The sweeper, the safety net the broker is not: lost leases, due retries, lost tasks, due requests,
expired requests and requests left with no step to run. Idempotent; two sweepers at once do no harm."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from offboarding import notifications
from offboarding.audit import audit_chain_link, audit_checkpoint_write, audit_record
from offboarding.models import ActionRequest, ApiIdempotencyKey, AuditEvent, StepAttempt, StepRun
from offboarding.progress import (
    advance,
    enqueue_start,
    enqueue_step,
    enqueue_steps_on_commit,
    finish_if_done,
)
from offboarding.runner.claim import due
from offboarding.runner.execute import audit_step_outcome

logger = logging.getLogger(__name__)

S = StepRun.Status
RS = ActionRequest.State


@dataclass
class SweepReport:
    lost_leases: int = 0
    quarantined: int = 0
    requeued: int = 0
    started: int = 0
    expired: int = 0
    repaired: int = 0
    linked: int = 0
    checkpoint: int = 0
    forgotten_keys: int = 0
    # Lost leases whose rows another session holds (a frozen process): taken back next sweep.
    busy: int = 0
    # The steps taken back from dead workers: a cluster resumes them at once, ahead of the queue.
    resumable: list[int] = field(default_factory=list, repr=False)

    def __str__(self) -> str:
        counts = {k: v for k, v in self.__dict__.items() if k != "resumable"}
        return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items())


# How long the sweeper waits for a row lock before leaving that piece of work to the next pass. A
# frozen process may hold a request's row or the audit chain's head until the server ends its
# session (DB_IDLE_TRANSACTION_TIMEOUT): nothing else in the pass may wait behind it.
LOCK_WAIT_MS = 1000


@contextlib.contextmanager
def _bounded_lock_waits() -> Iterator[None]:
    if connection.vendor != "postgresql":  # SQLite: one writer at a time, no row locks
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
    try:
        yield
    finally:
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def _part(name: str, work: Callable[[], int]) -> int:
    """One part of a pass; a lock not granted in time (or a database hiccup) leaves it for the next."""
    try:
        return work()
    except OperationalError as exc:
        logger.warning("sweep: %s left for the next pass (%s)", name, exc)
        return 0


def _recover_lost_lease(step: StepRun, now: datetime) -> str:
    """A worker died holding the lease: retry with a probe first, or quarantine the step.

    Only a quarantine decides dependents, so only it takes the request's row lock; a retry is
    fenced by the lease alone, and is not held up by a frozen process holding that row."""
    try:
        return _take_back(step, now)
    except OperationalError as exc:  # a row lock not granted in time (PostgreSQL)
        logger.warning("step %s: lost lease left for the next sweep (%s)", step.pk, exc)
        return "busy"


def _take_back(step: StepRun, now: datetime) -> str:
    crashes = step.crash_count + 1
    quarantine = (
        crashes >= settings.OFFBOARDING_QUARANTINE_AFTER
        or step.attempts >= settings.OFFBOARDING_MAX_ATTEMPTS
    )
    fields: dict[str, Any] = {
        "crash_count": crashes,
        "lease_owner": "",
        "lease_expires_at": None,
        "probe_first": True,
    }
    if quarantine:
        status, words = S.FAILED, "stopped: step kept crashing workers"
        fields.update(last_error=words, finished_at=now)
    else:
        status = S.RETRYING
        words = "worker lost during the attempt; outcome unknown, will check before repeating"
        fields.update(last_error=words, next_attempt_at=now, enqueued_at=now)
    with transaction.atomic():
        if quarantine:
            ActionRequest.objects.select_for_update().filter(pk=step.action_request_id).first()
        lost = StepRun.objects.filter(
            pk=step.pk, lease_owner=step.lease_owner, lease_expires_at__lt=now
        ).transition(to=status, fence=S.RUNNING, at=now, **fields)
        if not lost:
            return "gone"
        StepAttempt.objects.create(
            step_id=step.pk,
            round=step.round,
            attempt_no=step.attempts,
            message=words,
            lease_owner=step.lease_owner,
        )
        if quarantine:
            audit_step_outcome(step, status=status, outcome="", summary=words)
            enqueue_steps_on_commit(advance(step.action_request_id, now))
            finish_if_done(step.action_request_id, now)
        else:
            enqueue_steps_on_commit([step.pk])
    return "quarantined" if quarantine else "requeued"


def _requeue_due(now: datetime, requeue_after: float) -> int:
    """Claimable steps whose task may be lost: none was queued, it was queued `requeue_after`
    ago, or the step was handed to a thread of the task that made it ready (claimed within
    milliseconds, or within `chain.SLOT_WAIT` when its system is busy) and is still unclaimed
    `OFFBOARDING_FOLLOW_REQUEUE_AFTER` later: that task died (or is still busy with other steps,
    and a free worker runs this one sooner). A second task for a step is a no-op."""
    stale_enqueue = now - timedelta(seconds=requeue_after)
    follow_after = min(requeue_after, settings.OFFBOARDING_FOLLOW_REQUEUE_AFTER)
    stale_follow = now - timedelta(seconds=follow_after)
    pending = (
        StepRun.objects.filter(status__in=StepRun.CLAIMABLE, action_request__state=RS.RUNNING)
        .filter(due(now))
        .filter(
            Q(enqueued_at__isnull=True)
            | Q(enqueued_at__lte=stale_enqueue)
            | Q(followed=True, enqueued_at__lte=stale_follow)
        )
        .values_list("pk", "enqueued_at")
    )
    count = 0
    for pk, enqueued_at in list(pending[:5000]):
        # Keep when the step became due (health reads the queue's age from it).
        if StepRun.objects.filter(pk=pk, enqueued_at=enqueued_at).amend(
            at=now,
            enqueued_at=now,
            followed=False,
            next_attempt_at=Coalesce(F("next_attempt_at"), F("updated_at")),
        ):
            enqueue_step(pk)
            count += 1
    return count


def _start_due_requests(now: datetime, requeue_after: float) -> int:
    """Requests whose start is due and whose start task may be lost: approved more than
    `requeue_after` ago (0 when a cluster starts: a killed cluster's start tasks are gone), or
    scheduled and due. A start that runs twice is a no-op (the state is fenced)."""
    grace = now - timedelta(seconds=requeue_after)
    ready = ActionRequest.objects.filter(
        Q(state=RS.SCHEDULED, scheduled_for__lte=now)
        | Q(state=RS.APPROVED, approved_at__lte=grace)
        | Q(state=RS.APPROVED, scheduled_for__lte=now)
    ).values_list("pk", flat=True)
    ids = list(ready[:1000])
    for pk in ids:
        enqueue_start(pk)
    return len(ids)


def action_request_expire(*, action_request_id: int, now: datetime | None = None) -> bool:
    """Pending past its expiry → expired. Returns False when there was nothing to do."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = ActionRequest.objects.filter(pk=action_request_id, expires_at__lte=now).transition(
            to=RS.EXPIRED,
            fence=RS.PENDING_APPROVAL,
            at=now,
            state_note="Expired before enough approvals.",
            finished_at=now,
        )
        if not moved:
            return False
        req = ActionRequest.objects.get(pk=action_request_id)
        audit_record(action=AuditEvent.Action.REQUEST_EXPIRED, obj=req, target=req.target_login)
        transaction.on_commit(functools.partial(notifications.notify_requester, req.pk, "expired"))
    return True


def repair_stalled(now: datetime) -> int:
    """Running requests with no step to run: a crash between a step's result and moving its
    request on (`execute.step_run_complete`) left dependents undecided, or the finish undone.
    Their dependents are decided (and queued) and they finish when every step ended."""
    repaired = 0
    active = [S.READY, S.RUNNING, S.RETRYING]
    for pk in (
        ActionRequest.objects.filter(state=RS.RUNNING)
        .exclude(steps__status__in=active)
        .values_list("pk", flat=True)[:1000]
    ):
        with transaction.atomic():
            ActionRequest.objects.select_for_update().filter(pk=pk).first()
            ready = advance(pk, now)
            enqueue_steps_on_commit(ready)
            repaired += bool(ready) or bool(finish_if_done(pk, now))
    return repaired


def sweep(
    *,
    now: datetime | None = None,
    requeue_after: float | None = None,
    resume: Callable[[int], None] | None = None,
) -> SweepReport:
    """One pass of the safety net. Idempotent; two sweepers at once do no harm.

    `resume`, when given, is called with each step taken back from a dead worker as soon as it is
    (a cluster runs it at once), before the rest of the pass, which may wait on locks.

    `requeue_after` (default `OFFBOARDING_REQUEUE_AFTER`) is how long a claimable step's task, or
    an approved request's start task, may be out before it is queued again; a cluster that starts
    passes 0, since tasks that a killed cluster had taken from the broker may be gone (a duplicate
    task is a no-op).
    """
    now = now or timezone.now()
    if requeue_after is None:
        requeue_after = settings.OFFBOARDING_REQUEUE_AFTER
    report = SweepReport()
    with _bounded_lock_waits():
        for step in StepRun.objects.filter(status=S.RUNNING, lease_expires_at__lt=now)[:1000]:
            outcome = _recover_lost_lease(step, now)
            report.lost_leases += outcome in ("requeued", "quarantined")
            report.quarantined += outcome == "quarantined"
            report.busy += outcome == "busy"
            if outcome == "requeued":
                report.resumable.append(step.pk)
                if resume is not None:
                    resume(step.pk)
        report.requeued = _part("re-queue", lambda: _requeue_due(now, requeue_after))
        report.started = _part("due requests", lambda: _start_due_requests(now, requeue_after))
        report.expired = _part("expiry", lambda: _expire_pending(now))
        report.repaired = _part("stalled requests", lambda: repair_stalled(now))
        # Audit events a crash left sealed but unlinked, then a signed checkpoint when due.
        report.linked = _part("audit link", lambda: audit_chain_link(wait=False))
        report.checkpoint = _part("audit checkpoint", lambda: _checkpoint(now))
        report.forgotten_keys = _part(
            "idempotency keys", lambda: ApiIdempotencyKey.forget_expired(now)
        )
    return report


def _expire_pending(now: datetime) -> int:
    pending = ActionRequest.objects.filter(state=RS.PENDING_APPROVAL, expires_at__lte=now)
    return sum(
        action_request_expire(action_request_id=pk, now=now)
        for pk in pending.values_list("pk", flat=True)[:1000]
    )


def _checkpoint(now: datetime) -> int:
    checkpoint = audit_checkpoint_write(now=now)
    return checkpoint.seq if checkpoint is not None and checkpoint.sent_at else 0
