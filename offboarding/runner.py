"""The crash-safe step runner: start a request, claim a step, call the connector, fence the result.

Rules (DESIGN.md "Execution"):
- a claim is a conditional UPDATE ready/retrying(due) → running with a lease (owner, expiry);
- the outside call happens with no transaction open, inside `capture_calls()`;
- completion is fenced on (id, lease owner, running): a late result from a lost lease is recorded
  as a stale attempt and never applied;
- the sweeper, not the broker, is the source of truth: it brings back lost leases, due retries,
  ready steps the broker lost, due scheduled requests, and expires stale pending requests.
"""

from __future__ import annotations

import functools
import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.types import CallRecord, ConnectorError, OperationResult, Outcome, capture_calls
from offboarding import notifications, playbooks
from offboarding.audit import audit_record
from offboarding.exceptions import NotAllowed, TargetLookupFailed
from offboarding.models import ActionRequest, AuditEvent, StepAttempt, StepRun
from offboarding.services.targets import registry, scope_check, target_lookup

logger = logging.getLogger(__name__)

S = StepRun.Status
RS = ActionRequest.State


# --- Tunables (settings, with defaults) ----------------------------------------------------------


def max_attempts() -> int:
    return int(getattr(settings, "OFFBOARDING_MAX_ATTEMPTS", 6))


def quarantine_after() -> int:
    return int(getattr(settings, "OFFBOARDING_QUARANTINE_AFTER", 3))


def lease_seconds() -> int:
    """Longer than a task may run (Q_CLUSTER timeout), so a live worker never loses its lease."""
    default = int(settings.Q_CLUSTER.get("timeout", 90)) + 30
    return int(getattr(settings, "OFFBOARDING_LEASE_SECONDS", default))


def requeue_after() -> int:
    return int(getattr(settings, "OFFBOARDING_REQUEUE_AFTER", 120))


def backoff_base() -> float:
    return float(getattr(settings, "OFFBOARDING_BACKOFF_BASE", 2.0))


def backoff_cap() -> float:
    return float(getattr(settings, "OFFBOARDING_BACKOFF_CAP", 300.0))


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Full jitter: uniform(0, min(cap, base·2^(n-1))), never earlier than the server's hint."""
    ceiling = min(backoff_cap(), backoff_base() * (2 ** max(attempt - 1, 0)))
    delay = random.uniform(0, ceiling)  # noqa: S311 (jitter, not security)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, float(retry_after))
    return delay


# --- Enqueueing (ids only) ----------------------------------------------------------------------


def _async_task(func: str, *args: Any) -> None:
    from django_q.tasks import async_task

    async_task(func, *args)


def enqueue_step(step_id: int) -> None:
    _async_task("offboarding.tasks.run_step", step_id)


def enqueue_start(action_request_id: int) -> None:
    _async_task("offboarding.tasks.start_request", action_request_id)


def enqueue_steps_on_commit(step_ids: list[int]) -> None:
    for step_id in step_ids:
        transaction.on_commit(functools.partial(enqueue_step, step_id))


# --- Start: re-check scope and protection, then make the first steps ready ---------------------


def _refusal_for(req: ActionRequest) -> str | None:
    """None when the request may run now; otherwise why not, in words. Raises when Okta is down."""
    try:
        target = target_lookup(req.target_okta_id)
    except TargetLookupFailed as exc:
        if exc.retryable:
            raise
        return exc.message
    try:
        scope_check(user=req.requester, kind=req.kind, target=target)
    except NotAllowed as exc:
        return exc.message
    return None


def action_request_start(*, action_request_id: int, now: datetime | None = None) -> bool:
    """Approved/scheduled-and-due → running, after a live scope and protection check.

    Returns True when the request started. A refused request ends failed, saying why.
    Okta being unreachable leaves the request as it is; the sweeper tries again.
    """
    now = now or timezone.now()
    req = ActionRequest.objects.select_related("requester").get(pk=action_request_id)
    if req.state not in (RS.APPROVED, RS.SCHEDULED):
        return False
    if req.scheduled_for and req.scheduled_for > now:
        return False
    try:
        refusal = _refusal_for(req)
    except TargetLookupFailed as exc:
        logger.warning("request %s not started yet: %s", req.pk, exc.message)
        return False
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        if req.state not in (RS.APPROVED, RS.SCHEDULED):
            return False
        if refusal:
            _refuse(req, refusal, now)
            return False
        ActionRequest.objects.filter(pk=req.pk, state=req.state).update(
            state=RS.RUNNING, started_at=now, state_note="", updated_at=now
        )
        audit_record(action=AuditEvent.Action.REQUEST_STARTED, obj=req, target=req.target_login)
        ready = _advance(req.pk, now)
        enqueue_steps_on_commit(ready)
        _finish_if_done(req.pk, now)
    return True


def _refuse(req: ActionRequest, why: str, now: datetime) -> None:
    note = f"Refused before the first step: {why}"
    StepRun.objects.filter(action_request=req).exclude(status__in=StepRun.TERMINAL).update(
        status=S.CANCELLED,
        cancel_reason=StepRun.CancelReason.REFUSED,
        detail="not run: request refused before running",
        finished_at=now,
        updated_at=now,
    )
    ActionRequest.objects.filter(pk=req.pk).update(
        state=RS.FAILED, state_note=note, finished_at=now, updated_at=now
    )
    audit_record(
        action=AuditEvent.Action.REQUEST_REFUSED,
        obj=req,
        target=req.target_login,
        details={"why": why},
    )
    transaction.on_commit(functools.partial(notifications.notify_requester, req.pk, "failed"))


# --- Dependencies and the request's derived state ------------------------------------------------


def _dependency_verdict(step: StepRun, by_key: dict[str, StepRun]) -> tuple[str, str] | None:
    """(new status, words) when the step's dependencies decide it, None while they are pending."""
    deps = [by_key[k] for k in step.depends_on if k in by_key]
    for dep in deps:
        # A failed lock step does not hold back the revokes behind it: a security action locks
        # out as much as it can. Only the final, irreversible step needs every other to succeed.
        if dep.status == S.CANCELLED or (dep.status == S.FAILED and step.after_all):
            verb = "failed" if dep.status == S.FAILED else "did not run"
            return (
                S.CANCELLED,
                f"not run: {dep.system_label} {dep.operation.replace('_', ' ')} {verb}",
            )
    if not all(d.status in (S.SUCCEEDED, S.SKIPPED, S.FAILED) for d in deps):
        return None
    same_system_skip = [d for d in deps if d.status == S.SKIPPED and d.system == step.system]
    if same_system_skip and not step.after_all:
        return S.SKIPPED, f"not run: no {step.system_label} account"
    return S.READY, ""


def _advance(action_request_id: int, now: datetime) -> list[int]:
    """Move waiting steps whose dependencies are decided. Caller holds the request row lock."""
    steps = list(StepRun.objects.filter(action_request_id=action_request_id))
    by_key = {s.key: s for s in steps}
    ready: list[int] = []
    changed = True
    while changed:
        changed = False
        for step in steps:
            if step.status != S.WAITING:
                continue
            verdict = _dependency_verdict(step, by_key)
            if verdict is None:
                continue
            status, words = verdict
            fields: dict[str, Any] = {"status": status, "updated_at": now}
            if status == S.READY:
                fields["enqueued_at"] = now
            else:
                fields.update(detail=words, finished_at=now)
                if status == S.CANCELLED:
                    fields["cancel_reason"] = StepRun.CancelReason.DEPENDENCY
                else:
                    fields["outcome"] = StepRun.Outcome.NO_ACCOUNT
            if StepRun.objects.filter(pk=step.pk, status=S.WAITING).update(**fields):
                for name, value in fields.items():
                    setattr(step, name, value)
                changed = True
                if status == S.READY:
                    ready.append(step.pk)
    return ready


def derive_state(statuses: list[tuple[str, str]]) -> str | None:
    """From (status, cancel_reason) pairs: the request's final state, or None while any runs."""
    if not statuses or any(s not in StepRun.TERMINAL for s, _ in statuses):
        return None
    good = [s for s, _ in statuses if s in (S.SUCCEEDED, S.SKIPPED)]
    if len(good) == len(statuses):
        return RS.SUCCEEDED
    if not good and all(s == S.CANCELLED and r == StepRun.CancelReason.USER for s, r in statuses):
        return RS.CANCELLED
    return RS.PARTIALLY_FAILED if good else RS.FAILED


def _finish_if_done(action_request_id: int, now: datetime) -> str | None:
    pairs = list(
        StepRun.objects.filter(action_request_id=action_request_id).values_list(
            "status", "cancel_reason"
        )
    )
    final = derive_state(pairs)
    if final is None:
        return None
    done = ActionRequest.objects.filter(pk=action_request_id, state=RS.RUNNING).update(
        state=final, finished_at=now, updated_at=now
    )
    if done:
        req = ActionRequest.objects.get(pk=action_request_id)
        audit_record(
            action=AuditEvent.Action.REQUEST_FINISHED,
            obj=req,
            target=req.target_login,
            details={"state": final, "steps": len(pairs)},
        )
        transaction.on_commit(
            functools.partial(notifications.notify_requester, action_request_id, final)
        )
    return final


# --- Claim ----------------------------------------------------------------------------------------


def _lock_system(system: str) -> None:
    """Serialise claims for one system so the concurrency limit holds (SQLite: IMMEDIATE does it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"offboarding:{system}"])


def _concurrency_limit(system: str) -> int:
    try:
        return max(1, int(registry().concurrency_limit(system)))
    except Exception:  # a missing or broken registry must not let calls run unbounded
        logger.exception("no concurrency limit for %s; using 1", system)
        return 1


def _due(now: datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def step_run_claim(*, step_id: int, owner: str, now: datetime | None = None) -> StepRun | None:
    """Take the step for this worker, or None (not claimable, not due, or no free slot)."""
    now = now or timezone.now()
    row = StepRun.objects.filter(pk=step_id).values("system", "status", "next_attempt_at").first()
    if row is None or row["status"] not in StepRun.CLAIMABLE:
        return None
    if row["next_attempt_at"] and row["next_attempt_at"] > now:
        return None
    limit = _concurrency_limit(row["system"])
    with transaction.atomic():
        _lock_system(row["system"])
        running = StepRun.objects.filter(
            system=row["system"], status=S.RUNNING, lease_expires_at__gt=now
        ).count()
        claimable = StepRun.objects.filter(
            pk=step_id, status__in=StepRun.CLAIMABLE, action_request__state=RS.RUNNING
        ).filter(_due(now))
        if running >= limit:
            claimable.update(
                status=S.RETRYING,
                waiting_for_slot=True,
                next_attempt_at=now + timedelta(seconds=random.uniform(1, 5)),  # noqa: S311
                enqueued_at=None,
                updated_at=now,
            )
            return None
        claimed = claimable.update(
            status=S.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            waiting_for_slot=False,
            started_at=Coalesce(F("started_at"), now),
            updated_at=now,
        )
    if claimed != 1:
        return None
    return StepRun.objects.select_related("action_request").get(pk=step_id)


# --- Call -----------------------------------------------------------------------------------------


def _probe(step: StepRun, target: Any) -> OperationResult | None:
    """After an unknown outcome: is the effect already there? None means: do the operation."""
    op = (step.system, step.operation)
    probed = (
        playbooks.LOCKING_OPERATIONS
        | playbooks.UNLOCKING_OPERATIONS
        | playbooks.DEACTIVATING_OPERATIONS
    )
    if op not in probed:
        return None
    state = registry().read_account(step.system, target=target)
    if not state.exists:
        return OperationResult(Outcome.NO_ACCOUNT, "no account (found by a check)")
    if op in playbooks.LOCKING_OPERATIONS and state.locked_out:
        return OperationResult(Outcome.ALREADY_DONE, "already locked (found by a check)")
    if op in playbooks.DEACTIVATING_OPERATIONS and state.state.upper() in ("DEPROVISIONED",):
        return OperationResult(Outcome.ALREADY_DONE, "already deactivated (found by a check)")
    if op in playbooks.UNLOCKING_OPERATIONS and not state.locked_out:
        return OperationResult(Outcome.ALREADY_DONE, "already active (found by a check)")
    return None


def _call(step: StepRun) -> tuple[OperationResult | None, ConnectorError | None, list[CallRecord]]:
    target = step.action_request.target
    with capture_calls() as calls:
        try:
            result = _probe(step, target) if step.probe_first else None
            if result is None:
                result = registry().run_operation(
                    step.system, step.operation, target=target, options=step.options or None
                )
            return result, None, calls
        except ConnectorError as exc:
            return None, exc, calls
        except Exception as exc:  # a bug or an unwrapped network error: unknown, so probe next time
            logger.exception("step %s: unexpected error", step.pk)
            error = ConnectorError(
                f"unexpected error in the portal ({type(exc).__name__})",
                system=step.system,
                retryable=True,
                outcome_unknown=True,
            )
            return None, error, calls


# --- Complete (fenced) ----------------------------------------------------------------------------


@dataclass
class _Completion:
    fields: dict[str, Any]
    summary: str
    terminal: bool
    extra: dict[str, Any] = field(default_factory=dict)


def _completion_for(
    step: StepRun, result: OperationResult | None, error: ConnectorError | None, now: datetime
) -> _Completion:
    base: dict[str, Any] = {"lease_owner": "", "lease_expires_at": None, "updated_at": now}
    if result is not None:
        status = S.SKIPPED if result.outcome == Outcome.NO_ACCOUNT else S.SUCCEEDED
        detail = (
            result.detail
            or {
                Outcome.DONE: "done",
                Outcome.ALREADY_DONE: "already done",
                Outcome.NO_ACCOUNT: "skipped: no account",
            }[Outcome(result.outcome)]
        )
        base.update(
            status=status,
            outcome=str(Outcome(result.outcome).value),
            detail=detail,
            last_error="",
            probe_first=False,
            next_attempt_at=None,
            finished_at=now,
        )
        return _Completion(base, detail, True)
    assert error is not None
    attempts = step.attempts
    transient = error.retryable or error.outcome_unknown
    if transient and attempts < max_attempts():
        delay = backoff_delay(attempts, error.retry_after)
        words = f"{error.message} — will retry (attempt {attempts} of {max_attempts()})"
        base.update(
            status=S.RETRYING,
            last_error=words,
            probe_first=step.probe_first or error.outcome_unknown,
            next_attempt_at=now + timedelta(seconds=delay),
            enqueued_at=None,
        )
        return _Completion(base, words, False, {"delay": round(delay, 3)})
    words = (
        error.message if not transient else f"gave up after {attempts} attempts: {error.message}"
    )
    base.update(status=S.FAILED, last_error=words, next_attempt_at=None, finished_at=now)
    return _Completion(base, words, True)


def _record_attempts(
    step: StepRun, owner: str, calls: list[CallRecord], summary: str, *, stale: bool
) -> None:
    rows = [
        StepAttempt(
            step_id=step.pk,
            attempt_no=step.attempts,
            method=c.method[:10],
            path=c.path[:500],
            status_code=c.status,
            duration_ms=c.duration_ms,
            error_code=c.error_code[:64],
            message=c.message,
            stale=stale,
            lease_owner=owner,
        )
        for c in calls
    ]
    if rows:
        if not rows[-1].message:
            rows[-1].message = summary
    else:
        rows.append(
            StepAttempt(
                step_id=step.pk,
                attempt_no=step.attempts,
                message=summary,
                stale=stale,
                lease_owner=owner,
            )
        )
    StepAttempt.objects.bulk_create(rows)


def step_run_complete(
    *,
    step: StepRun,
    owner: str,
    result: OperationResult | None,
    error: ConnectorError | None,
    calls: list[CallRecord],
    now: datetime | None = None,
) -> bool:
    """Apply an attempt's result if this worker still holds the lease; else record it as stale."""
    now = now or timezone.now()
    completion = _completion_for(step, result, error, now)
    with transaction.atomic():
        # One completion per request at a time, so dependents are decided exactly once.
        ActionRequest.objects.select_for_update().filter(pk=step.action_request_id).first()
        applied = StepRun.objects.filter(pk=step.pk, lease_owner=owner, status=S.RUNNING).update(
            **completion.fields
        )
        _record_attempts(step, owner, calls, completion.summary, stale=not applied)
        if not applied:
            logger.warning("step %s: late result from a lost lease recorded as stale", step.pk)
            return False
        if completion.terminal:
            _audit_step(step, completion)
            ready = _advance(step.action_request_id, now)
            enqueue_steps_on_commit(ready)
            _finish_if_done(step.action_request_id, now)
        transaction.on_commit(functools.partial(_wake_slot_waiters, step.system))
    return True


def _audit_step(step: StepRun, completion: _Completion) -> None:
    audit_record(
        action=AuditEvent.Action.STEP_OUTCOME,
        obj=step,
        target=step.action_request.target_login,
        details={
            "request": step.action_request_id,
            "step": step.key,
            "status": completion.fields.get("status"),
            "outcome": completion.fields.get("outcome", ""),
            "attempts": step.attempts,
            "words": completion.summary,
        },
    )


def _wake_slot_waiters(system: str, limit: int = 1) -> None:
    """A slot freed up: enqueue the oldest step of this system that waits for one."""
    now = timezone.now()
    waiting = StepRun.objects.filter(
        system=system, status=S.RETRYING, waiting_for_slot=True
    ).order_by("next_attempt_at", "id")[:limit]
    for step in waiting:
        if StepRun.objects.filter(pk=step.pk, status=S.RETRYING, waiting_for_slot=True).update(
            next_attempt_at=now, enqueued_at=now, updated_at=now
        ):
            enqueue_step(step.pk)


def step_run_execute(*, step_id: int) -> str:
    """Claim, call, complete. Safe to call any number of times for the same step."""
    owner = str(uuid.uuid4())
    step = step_run_claim(step_id=step_id, owner=owner)
    if step is None:
        return "not claimed"
    result, error, calls = _call(step)
    applied = step_run_complete(step=step, owner=owner, result=result, error=error, calls=calls)
    return "applied" if applied else "stale"


# --- Sweeper --------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    lost_leases: int = 0
    quarantined: int = 0
    requeued: int = 0
    started: int = 0
    expired: int = 0
    repaired: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in self.__dict__.items())


def _recover_lost_lease(step: StepRun, now: datetime) -> str:
    """A worker died holding the lease: retry with a probe first, or quarantine the step."""
    crashes = step.crash_count + 1
    quarantine = crashes >= quarantine_after() or step.attempts >= max_attempts()
    with transaction.atomic():
        ActionRequest.objects.select_for_update().filter(pk=step.action_request_id).first()
        fields: dict[str, Any] = {
            "crash_count": crashes,
            "lease_owner": "",
            "lease_expires_at": None,
            "probe_first": True,
            "updated_at": now,
        }
        if quarantine:
            words = "stopped: step kept crashing workers"
            fields.update(status=S.FAILED, last_error=words, finished_at=now)
        else:
            words = "worker lost during the attempt; outcome unknown, will check before repeating"
            fields.update(status=S.RETRYING, last_error=words, next_attempt_at=now, enqueued_at=now)
        lost = StepRun.objects.filter(
            pk=step.pk, status=S.RUNNING, lease_owner=step.lease_owner, lease_expires_at__lt=now
        ).update(**fields)
        if not lost:
            return "gone"
        StepAttempt.objects.create(
            step_id=step.pk, attempt_no=step.attempts, message=words, lease_owner=step.lease_owner
        )
        if quarantine:
            _audit_step(step, _Completion(fields, words, True))
            enqueue_steps_on_commit(_advance(step.action_request_id, now))
            _finish_if_done(step.action_request_id, now)
        else:
            enqueue_steps_on_commit([step.pk])
    return "quarantined" if quarantine else "requeued"


def _requeue_due(now: datetime) -> int:
    stale_enqueue = now - timedelta(seconds=requeue_after())
    due = (
        StepRun.objects.filter(status__in=StepRun.CLAIMABLE, action_request__state=RS.RUNNING)
        .filter(_due(now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=stale_enqueue))
        .values_list("pk", "enqueued_at")
    )
    count = 0
    for pk, enqueued_at in list(due[:5000]):
        if StepRun.objects.filter(pk=pk, enqueued_at=enqueued_at).update(enqueued_at=now):
            enqueue_step(pk)
            count += 1
    return count


def _start_due_requests(now: datetime) -> int:
    grace = now - timedelta(seconds=requeue_after())
    due = ActionRequest.objects.filter(
        Q(state=RS.SCHEDULED, scheduled_for__lte=now)
        | Q(state=RS.APPROVED, approved_at__lte=grace)
        | Q(state=RS.APPROVED, scheduled_for__lte=now)
    ).values_list("pk", flat=True)
    ids = list(due[:1000])
    for pk in ids:
        enqueue_start(pk)
    return len(ids)


def sweep(*, now: datetime | None = None) -> SweepReport:
    """One pass of the safety net. Idempotent; two sweepers at once do no harm."""
    from offboarding.services.requests import action_request_expire

    now = now or timezone.now()
    report = SweepReport()
    for step in StepRun.objects.filter(status=S.RUNNING, lease_expires_at__lt=now)[:1000]:
        outcome = _recover_lost_lease(step, now)
        report.lost_leases += outcome != "gone"
        report.quarantined += outcome == "quarantined"
    report.requeued = _requeue_due(now)
    report.started = _start_due_requests(now)
    for pk in ActionRequest.objects.filter(
        state=RS.PENDING_APPROVAL, expires_at__lte=now
    ).values_list("pk", flat=True)[:1000]:
        report.expired += bool(action_request_expire(action_request_id=pk, now=now))
    for pk in (
        ActionRequest.objects.filter(state=RS.RUNNING)
        .exclude(steps__status__in=[S.WAITING, S.READY, S.RUNNING, S.RETRYING])
        .values_list("pk", flat=True)[:1000]
    ):
        with transaction.atomic():
            ActionRequest.objects.select_for_update().filter(pk=pk).first()
            report.repaired += bool(_finish_if_done(pk, now))
    return report
