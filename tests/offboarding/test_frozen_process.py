"""A process frozen inside a transaction (SIGSTOP, a paused VM) holds its row locks until the server
ends its session. The sweeper must not wait behind it, a claim or a completion must never queue in
the server for a lock (a frozen process's queued request would be granted and then held), and a
worker that comes back to a session the server ended must still record its late result. PostgreSQL only: SQLite has no row locks."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction

from offboarding import runner
from offboarding.models import ActionRequest, AuditChainHead, StepAttempt, StepRun
from offboarding.runner import execute

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has no row locks; PostgreSQL only"
    ),
    pytest.mark.django_db(transaction=True),
]

S = StepRun.Status
# Longer than any lock wait the sweeper allows itself; a sweeper that waits for the frozen
# holder is only let go by this bound (and the test then fails on it).
HOLD_BOUND_S = 20.0


class FrozenHolder:
    """Another session that locks a request's row and the audit chain's head, then does nothing."""

    def __init__(self, request_id: int) -> None:
        self.request_id = request_id
        self.locked = threading.Event()
        self.release = threading.Event()
        self.released_by_bound = False
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        try:
            with transaction.atomic():
                ActionRequest.objects.select_for_update().get(pk=self.request_id)
                AuditChainHead.objects.get_or_create(pk=1)
                AuditChainHead.objects.select_for_update().get(pk=1)
                self.locked.set()
                self.released_by_bound = not self.release.wait(HOLD_BOUND_S)
        finally:
            connection.close()

    def __enter__(self) -> FrozenHolder:
        self.thread.start()
        assert self.locked.wait(10), "the holder never got its locks"
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(HOLD_BOUND_S + 5)


def test_a_lost_lease_is_taken_back_and_resumed_while_a_frozen_process_holds_its_request(
    approved, queue, steps, fake_registry
):
    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    step = steps(req)["okta.suspend"]
    claimed = runner.step_run_claim(step_id=step.pk, owner="dead-worker")
    assert claimed is not None
    resumed: list[int] = []
    with (
        FrozenHolder(req.pk) as holder,
        time_machine.travel(claimed.lease_expires_at + timedelta(seconds=1)),
    ):
        report = runner.sweep(resume=resumed.append)
        swept_while_held = not holder.release.is_set()
    assert swept_while_held and not holder.released_by_bound, "the sweep waited for the holder"
    assert report.lost_leases == 1 and report.busy == 0
    assert resumed == [step.pk], "the step is handed on to be resumed at once"
    step.refresh_from_db()
    assert step.status == S.RETRYING and step.probe_first and step.lease_owner == ""


def test_a_sweep_leaves_what_a_frozen_process_holds_for_the_next_pass(
    approved, queue, steps, fake_registry
):
    """The request's own finish waits on its row: that part is left, the rest of the pass runs."""
    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    StepRun.objects.filter(action_request=req).update(status=S.SUCCEEDED)
    with FrozenHolder(req.pk) as holder:
        report = runner.sweep()
        swept_while_held = not holder.release.is_set()
    assert swept_while_held and not holder.released_by_bound
    assert report.repaired == 0, "the held request is not finished behind the holder's back"
    req.refresh_from_db()
    assert req.state == ActionRequest.State.RUNNING
    assert runner.sweep().repaired == 1, "the next pass, with the holder gone, finishes it"
    req.refresh_from_db()
    assert req.state != ActionRequest.State.RUNNING


def test_a_worker_whose_session_the_server_ended_still_records_its_late_result(
    approved, queue, steps, fake_registry, monkeypatch
):
    """Frozen past the idle timeout: the server ended its session and the step went to another
    worker; when it wakes, its result is recorded as stale on a new connection, not lost."""
    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    step = steps(req)["okta.suspend"]
    original_call = execute.step_run_call

    def call_then_lose_the_session(claimed: StepRun):
        result = original_call(claimed)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with _other_session() as other:
            # What the server's idle-in-transaction timeout does to a frozen session...
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
            # ...while the sweeper hands the step to another worker.
            other.execute(
                "UPDATE offboarding_steprun SET lease_owner = 'another-worker' WHERE id = %s",
                [claimed.pk],
            )
        return result

    monkeypatch.setattr(execute, "step_run_call", call_then_lose_the_session)
    assert execute.step_run_execute(step_id=step.pk) == "stale"
    assert StepAttempt.objects.filter(step=step, stale=True).exists()
    step.refresh_from_db()
    assert step.status == S.RUNNING and step.lease_owner == "another-worker"


class _other_session:
    """A second, independent database session (psycopg), for doing to ours what the server does."""

    def __enter__(self):
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.conn = psycopg.connect(**params, autocommit=True)
        return self.conn.cursor()

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


class _held:
    """Another session that takes a lock with `sql` and keeps it until the block ends."""

    def __init__(self, sql: str, params: list) -> None:
        self.sql, self.params = sql, params

    def __enter__(self):
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        self.conn = psycopg.connect(**params)  # a transaction, open until __exit__
        self.conn.execute(self.sql, self.params)
        return self

    def waiting_in_the_server(self) -> int:
        """Lock requests of other sessions that the server has queued (not granted)."""
        with _other_session() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            return cursor.fetchone()[0]

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()


def _in_thread(work) -> tuple[threading.Thread, list]:
    out: list = []

    def run() -> None:
        try:
            out.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_claim_tries_its_system_lock_instead_of_queuing_behind_a_frozen_holder(
    approved, queue, steps, fake_registry
):
    """A queued lock request of a frozen process would be granted in its turn and then held for a
    whole idle timeout; a claim therefore never waits in the server's lock queue."""
    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    step = steps(req)["okta.suspend"]
    with _held("SELECT pg_advisory_xact_lock(hashtext('offboarding:okta'))", []) as holder:
        thread, claimed = _in_thread(lambda: runner.step_run_claim(step_id=step.pk, owner="w1"))
        thread.join(0.5)
        assert thread.is_alive() and not claimed, "the claim went ahead of the lock's holder"
        assert holder.waiting_in_the_server() == 0, "the claim queued in the server"
    thread.join(10)
    assert claimed and claimed[0] is not None and claimed[0].lease_owner == "w1"


REQUEST_ROW_LOCK = "SELECT id FROM offboarding_actionrequest WHERE id = %s FOR UPDATE"


def _suspend_to_complete(approved, queue, steps):
    """An offboard's Okta suspend, claimed by w1, and its completion (done) to run."""
    from connections.types import OperationResult, Outcome

    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    step = runner.step_run_claim(step_id=steps(req)["okta.suspend"].pk, owner="w1")
    assert step is not None
    done = OperationResult(Outcome.DONE, "suspended")
    return (
        req,
        step,
        lambda: execute.step_run_complete(step=step, owner="w1", result=done, error=None, calls=[]),
    )


def test_a_completion_tries_its_request_lock_instead_of_queuing_behind_a_frozen_holder(
    approved, queue, steps, fake_registry
):
    req, step, complete = _suspend_to_complete(approved, queue, steps)
    with _held(REQUEST_ROW_LOCK, [req.pk]) as holder:
        thread, applied = _in_thread(complete)
        thread.join(0.5)
        assert thread.is_alive() and not applied, "the completion went ahead of the holder"
        assert holder.waiting_in_the_server() == 0, "the completion queued in the server"
    thread.join(10)
    assert applied == [True]
    assert StepRun.objects.get(pk=step.pk).status == S.SUCCEEDED


def test_a_step_result_is_applied_while_its_request_row_is_held(
    approved, queue, steps, fake_registry
):
    """The steps of one request complete side by side: only deciding the dependents waits for the
    request's row, not the step's own result, its attempts and its audit event."""
    req, step, complete = _suspend_to_complete(approved, queue, steps)
    with _held(REQUEST_ROW_LOCK, [req.pk]):
        thread, applied = _in_thread(complete)
        thread.join(0.5)
        assert thread.is_alive(), "the dependents were decided behind the holder's back"
        assert StepRun.objects.get(pk=step.pk).status == S.SUCCEEDED
        assert steps(req)["okta.clear_sessions"].status == S.WAITING
    thread.join(10)
    assert applied == [True]
    assert steps(req)["okta.clear_sessions"].status == S.READY


def test_a_worker_frozen_inside_its_completion_records_the_result_on_a_new_session(
    approved, queue, steps, fake_registry, monkeypatch
):
    """Frozen past the idle timeout in the middle of the completion's transaction: the server ends
    the session (psycopg: IdleInTransactionSessionTimeout, an InternalError); the completion is
    made again on a new connection and, the lease still being this worker's, applied."""
    from offboarding import progress

    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    step = steps(req)["okta.suspend"]
    original_advance = progress.advance
    frozen = []

    def freeze_once(*args, **kwargs):
        if not frozen:
            frozen.append(True)
            with connection.cursor() as cursor:
                cursor.execute("SET idle_in_transaction_session_timeout = 100")
            time.sleep(0.5)  # the process is stopped; the server ends its session
        return original_advance(*args, **kwargs)

    monkeypatch.setattr(execute, "advance", freeze_once)
    assert execute.step_run_execute(step_id=step.pk) == "applied"
    assert frozen == [True]
    step.refresh_from_db()
    assert step.status == S.SUCCEEDED and step.lease_owner == ""
