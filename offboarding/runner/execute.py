"""Run one step: claim it, call the connector with no transaction open, apply the result if this
worker still holds the lease (else record it as stale), then move the request along."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

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
from offboarding.progress import advance, enqueue_steps_on_commit, finish_if_done
from offboarding.runner.backoff import backoff_delay
from offboarding.runner.claim import concurrency_limit, step_run_claim, wake_slot_waiters
from offboarding.runner.lease import keep_lease, new_lease_owner
from offboarding.runner.locks import request_transaction
from offboarding.runner.pacing import rate_note
from offboarding.runner.timings import longest_first, note_call_times, note_operation_time
from offboarding.runner.verify import (
    contradicted,
    is_verification,
    verification_options,
    verification_record,
)
from offboarding.runner.writes import write_transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

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

    Two transactions. The first applies the step's own result (fenced by the lease, with its
    attempts and audit events) and takes no request lock, so the steps of one request complete
    side by side. The second, once the step is terminal, holds the request's row lock to decide
    its dependents and finish the request: each such transaction runs after its own step's result
    committed and sees every result committed before it, so the last one decides everything, and a
    dependent is made ready once (fenced). A crash between the two leaves the request with no step
    to run: the sweeper moves it on (`sweep.repair_stalled`).

    Steps made ready are queued on commit, or, when `follow` is a list, added to it for the
    caller to run (`runner.chain`). They are ready with `enqueued_at` set, so the sweeper brings
    them back if the caller dies first.
    """
    now = now or timezone.now()
    done = _completion_for(step, result, error, now)
    retried: list[bool] = []
    applied = _again_on_a_new_connection(
        step, lambda: _apply(step, owner, done, calls, now, (result, error)), retried
    )
    # After a lost connection the first try may have committed unseen (the retry then finds the
    # step ended): moving the request on is harmless either way, so it is done.
    if done.terminal and (applied or retried):
        kept = len(follow) if follow is not None else 0

        def move_on() -> None:
            if follow is not None:
                del follow[kept:]
            _move_on(step, now, follow)

        _again_on_a_new_connection(step, move_on, [])
    if applied:  # a slot of this system is free (outside a transaction: at once)
        transaction.on_commit(functools.partial(wake_slot_waiters, step.system))
    return applied


def _again_on_a_new_connection(step: StepRun, work: Callable[[], T], retried: list[bool]) -> T:
    """`work()`, made again on a new connection if the server ended this session inside it.

    The server ends a session when this process was frozen past DB_IDLE_TRANSACTION_TIMEOUT
    (psycopg reports an InternalError when it struck inside the transaction) or the database
    restarted: the result is still worth recording, if only as a stale attempt."""
    try:
        return work()
    except (OperationalError, InterfaceError, InternalError):
        if connection.in_atomic_block:
            raise
        logger.warning("step %s: database connection lost; completing again", step.pk)
        connection.close()
        retried.append(True)
        return work()


def _apply(
    step: StepRun,
    owner: str,
    done: _Completion,
    calls: list[CallRecord],
    now: datetime,
    outcome_of: tuple[OperationResult | None, ConnectorError | None],
) -> bool:
    """The step's own result, fenced by the lease; a late result is recorded as stale."""
    with write_transaction():
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
                result, error = outcome_of
                verification_record(step, result=result, error=error, now=now)
    return True


def _move_on(step: StepRun, now: datetime, follow: list[int] | None) -> None:
    """Decide the dependents of an ended step and finish its request when every step ended."""
    with request_transaction(step.action_request_id):
        seen: list[StepRun] = []
        ready = advance(step.action_request_id, now, seen=seen, followed=follow is not None)
        if follow is None:
            enqueue_steps_on_commit(longest_first(ready, seen))
        else:
            follow.extend(longest_first(_followers(step, seen), seen))
        if all(s.status in StepRun.TERMINAL for s in seen):
            finish_if_done(step.action_request_id, now)


def _followers(step: StepRun, seen: list[StepRun]) -> list[int]:
    """The ready steps behind this one, for its task to run: those that depend on it, whichever
    transaction made them ready. The steps complete side by side, so another step's completion
    may take the request's lock first and, seeing this result committed, decide this one's
    dependents; that completion leaves them, and this one, which comes next, takes them. Every
    dependent is so taken: the completion of its last dependency to commit either decides it
    itself or follows the one that did. One taken twice (it depends on both) is claimed once."""
    return [s.pk for s in seen if s.status == S.READY and s.followed and step.key in s.depends_on]


@dataclass(frozen=True)
class Claimed:
    """A step this process claimed already (`step_run_claim`), with the lease owner it claimed as."""

    step: StepRun
    owner: str


def step_run_execute(
    *,
    step_id: int,
    follow: list[int] | None = None,
    defer_when_full: bool = True,
    claimed: Claimed | None = None,
) -> str:
    """Claim, call, complete. Safe to call any number of times for the same step.

    `follow`: see step_run_complete (the steps made ready, for the caller to run).
    `defer_when_full`: see step_run_claim. `claimed`: the step was claimed already; go on from
    the call.
    """
    if claimed is not None:
        step, owner = claimed.step, claimed.owner
    else:
        owner = new_lease_owner()
        found = step_run_claim(step_id=step_id, owner=owner, defer_when_full=defer_when_full)
        if found is None:
            return "not claimed"
        step = found
    with keep_lease(step_id=step.pk, owner=owner):
        began = time.monotonic()
        result, error, calls = step_run_call(step)
        note_operation_time(step.system, step.operation, (time.monotonic() - began) * 1000)
    note_call_times(calls)
    if any(c.rate_reset is not None for c in calls):
        rate_note(step.system, calls, reserve=concurrency_limit(step.system))
    applied = step_run_complete(
        step=step, owner=owner, result=result, error=error, calls=calls, follow=follow
    )
    return "applied" if applied else "stale"
