"""Run one step: claim it, call the connector with no transaction open, apply the result if this
worker still holds the lease (else record it as stale), then move the request along."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, InternalError, OperationalError, connection, transaction
from django.utils import timezone

from connections import registry
from connections.types import (
    CallRecord,
    ConnectorError,
    OperationResult,
    Outcome,
    System,
    Target,
    capture_calls,
)
from offboarding import playbooks
from offboarding.audit import audit_record
from offboarding.models import AuditEvent, StepAttempt, StepRun
from offboarding.progress import advance, enqueue_step, enqueue_steps_on_commit, finish_if_done
from offboarding.runner.backoff import backoff_delay
from offboarding.runner.claim import concurrency_limit, step_run_claim
from offboarding.runner.lease import keep_lease, new_lease_owner
from offboarding.runner.locks import request_transaction
from offboarding.runner.pacing import rate_note
from offboarding.runner.verify import (
    contradicted,
    is_verification,
    verification_options,
    verification_record,
)

logger = logging.getLogger(__name__)

S = StepRun.Status

_DONE_WORDS = {
    Outcome.DONE: "done",
    Outcome.ALREADY_DONE: "already done",
    Outcome.NO_ACCOUNT: "skipped: no account",
}


# --- Call -----------------------------------------------------------------------------------------


def _probe(step: StepRun, target: Target) -> OperationResult | None:
    """After an unknown outcome: is the effect already there? None means: do the operation."""
    op = (step.system, step.operation)
    probed = (
        playbooks.LOCKING_OPERATIONS
        | playbooks.UNLOCKING_OPERATIONS
        | playbooks.DEACTIVATING_OPERATIONS
    )
    if op not in probed:
        return None
    state = registry.read_account(System(step.system), target=target)
    if not state.exists:
        return OperationResult(Outcome.NO_ACCOUNT, "no account (found by a check)")
    if op in playbooks.LOCKING_OPERATIONS and state.locked_out:
        return OperationResult(Outcome.ALREADY_DONE, "already locked (found by a check)")
    if op in playbooks.DEACTIVATING_OPERATIONS and state.state.upper() in ("DEPROVISIONED",):
        return OperationResult(Outcome.ALREADY_DONE, "already deactivated (found by a check)")
    if op in playbooks.UNLOCKING_OPERATIONS and not state.locked_out:
        return OperationResult(Outcome.ALREADY_DONE, "already active (found by a check)")
    return None


def step_run_call(
    step: StepRun,
) -> tuple[OperationResult | None, ConnectorError | None, list[CallRecord]]:
    """Call the connector for a claimed step (probing first when the last outcome is unknown).

    Never raises: an unexpected error becomes a retryable ConnectorError of unknown outcome.
    """
    target = step.action_request.target
    with capture_calls() as calls:
        try:
            result = _probe(step, target) if step.probe_first else None
            if result is None:
                options = verification_options(step) if is_verification(step) else step.options
                result = registry.run_operation(
                    System(step.system), step.operation, target=target, options=options or None
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
    status: str
    fields: dict[str, Any]
    summary: str
    terminal: bool


def _success(step: StepRun, result: OperationResult, now: datetime) -> _Completion:
    status = S.SKIPPED if result.outcome == Outcome.NO_ACCOUNT else S.SUCCEEDED
    detail = result.detail or _DONE_WORDS[Outcome(result.outcome)]
    if is_verification(step) and contradicted(result):
        # The read-back contradicts the steps: not verified, so the request is not a success.
        done = _Completion(
            S.FAILED, {"result": dict(result.data), "finished_at": now}, detail, True
        )
        done.fields.update(last_error=f"Not verified: {detail}", detail=detail)
        return done
    fields = {
        "outcome": str(Outcome(result.outcome).value),
        "detail": detail,
        "result": dict(result.data),
        "last_error": "",
        "probe_first": False,
        "next_attempt_at": None,
        "finished_at": now,
    }
    return _Completion(status, fields, detail, True)


def _completion_for(
    step: StepRun, result: OperationResult | None, error: ConnectorError | None, now: datetime
) -> _Completion:
    lease: dict[str, Any] = {"lease_owner": "", "lease_expires_at": None}
    if result is not None:
        done = _success(step, result, now)
        done.fields.update(lease)
        return done
    assert error is not None
    attempts, limit = step.attempts, settings.OFFBOARDING_MAX_ATTEMPTS
    transient = error.retryable or error.outcome_unknown
    if transient and attempts < limit:
        delay = backoff_delay(attempts, error.retry_after)
        words = f"{error.message} — will retry (attempt {attempts} of {limit})"
        fields = {
            **lease,
            "last_error": words,
            "probe_first": step.probe_first or error.outcome_unknown,
            "next_attempt_at": now + timedelta(seconds=delay),
            "enqueued_at": None,
        }
        return _Completion(S.RETRYING, fields, words, False)
    words = (
        error.message if not transient else f"gave up after {attempts} attempts: {error.message}"
    )
    fields = {**lease, "last_error": words, "next_attempt_at": None, "finished_at": now}
    return _Completion(S.FAILED, fields, words, True)


def _record_attempts(
    step: StepRun, owner: str, calls: list[CallRecord], summary: str, *, stale: bool
) -> None:
    rows = [
        StepAttempt(
            step_id=step.pk,
            round=step.round,
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
                round=step.round,
                attempt_no=step.attempts,
                message=summary,
                stale=stale,
                lease_owner=owner,
            )
        )
    StepAttempt.objects.bulk_create(rows)


def audit_step_outcome(step: StepRun, *, status: str, outcome: str, summary: str) -> None:
    """The audit event for a step that reached a terminal status."""
    audit_record(
        action=AuditEvent.Action.STEP_OUTCOME,
        obj=step,
        target=step.action_request.target_login,
        details={
            "request": step.action_request_id,
            "step": step.key,
            "status": status,
            "outcome": outcome,
            "attempts": step.attempts,
            "words": summary,
        },
    )


def step_run_complete(
    *,
    step: StepRun,
    owner: str,
    result: OperationResult | None,
    error: ConnectorError | None,
    calls: list[CallRecord],
    now: datetime | None = None,
    follow: list[int] | None = None,
) -> bool:
    """Apply an attempt's result if this worker still holds the lease; else record it as stale.

    Steps made ready are queued on commit, except, when `follow` is a list, those of the same
    system: their ids are added to it for the caller to run (`runner.chain`). They are ready
    with `enqueued_at` set, so the sweeper brings them back if the caller dies first.
    """
    now = now or timezone.now()
    done = _completion_for(step, result, error, now)
    # One completion per request at a time, so dependents are decided exactly once.
    with request_transaction(step.action_request_id):
        applied = StepRun.objects.filter(pk=step.pk, lease_owner=owner).transition(
            to=done.status, fence=S.RUNNING, at=now, **done.fields
        )
        _record_attempts(step, owner, calls, done.summary, stale=not applied)
        if not applied:
            logger.warning("step %s: late result from a lost lease recorded as stale", step.pk)
            return False
        if done.terminal:
            outcome = str(done.fields.get("outcome", ""))
            audit_step_outcome(step, status=done.status, outcome=outcome, summary=done.summary)
            if is_verification(step):
                verification_record(step, result=result, error=error, now=now)
            ready = advance(step.action_request_id, now)
            enqueue_steps_on_commit(_keep_followers(step, ready, follow))
            finish_if_done(step.action_request_id, now)
        transaction.on_commit(functools.partial(_wake_slot_waiters, step.system))
    return True


def _keep_followers(step: StepRun, ready: list[int], follow: list[int] | None) -> list[int]:
    """The ready ids to queue; same-system ones go to `follow` instead when it is a list."""
    if follow is None or not ready:
        return ready
    same = set(
        StepRun.objects.filter(pk__in=ready, system=step.system).values_list("pk", flat=True)
    )
    follow.extend(pk for pk in ready if pk in same)
    return [pk for pk in ready if pk not in same]


def _wake_slot_waiters(system: str, limit: int = 1) -> None:
    """A slot freed up: enqueue the oldest step of this system that waits for one."""
    now = timezone.now()
    waiting = StepRun.objects.filter(
        system=system, status=S.RETRYING, waiting_for_slot=True
    ).order_by("next_attempt_at", "id")[:limit]
    for step in waiting:
        woken = StepRun.objects.filter(pk=step.pk, status=S.RETRYING, waiting_for_slot=True).amend(
            at=now, next_attempt_at=now, enqueued_at=now
        )
        if woken:
            enqueue_step(step.pk)


_call_ms = [0.0]  # a moving average of this process's API call times (ms)


def _note_call_times(calls: list[CallRecord]) -> None:
    for call in calls:
        _call_ms[0] = 0.8 * _call_ms[0] + 0.2 * call.duration_ms


def recent_call_ms() -> float:
    """A moving average of how long this process's recent API calls took, in ms."""
    return _call_ms[0]


def step_run_execute(*, step_id: int, follow: list[int] | None = None) -> str:
    """Claim, call, complete. Safe to call any number of times for the same step.

    `follow`: see step_run_complete (the same-system steps made ready, for the caller to run).
    """
    owner = new_lease_owner()
    step = step_run_claim(step_id=step_id, owner=owner)
    if step is None:
        return "not claimed"
    with keep_lease(step_id=step.pk, owner=owner):
        result, error, calls = step_run_call(step)
    _note_call_times(calls)
    if any(c.rate_reset is not None for c in calls):
        rate_note(step.system, calls, reserve=concurrency_limit(step.system))
    kept = len(follow) if follow is not None else 0
    complete = functools.partial(
        step_run_complete, step=step, owner=owner, result=result, error=error, calls=calls
    )
    try:
        applied = complete(follow=follow)
    except (OperationalError, InterfaceError, InternalError):
        if connection.in_atomic_block:
            raise
        # The server ended this session (this process was frozen past DB_IDLE_TRANSACTION_TIMEOUT,
        # which psycopg reports as an InternalError when it struck inside this completion's own
        # transaction, or the database restarted): the result is still worth recording, on a new
        # connection, if only as a stale attempt.
        logger.warning("step %s: database connection lost; completing again", step.pk)
        connection.close()
        if follow is not None:
            del follow[kept:]
        applied = complete(follow=follow)
    return "applied" if applied else "stale"
