"""Ready steps run inside the task that made them ready, on threads (runner.chain): the start runs
the first steps, a step runs the same-system steps waiting only for it (lock → revokes).

These tests commit for real (transaction=True): the threads must see the rows. Inside an open
transaction the same code queues the steps instead, as the rest of the suite shows."""

from __future__ import annotations

import threading
import time

import pytest

from connections.types import ConnectorError
from offboarding import runner, tasks
from offboarding.models import ActionRequest, StepRun
from tests.offboarding.conftest import Fault

pytestmark = pytest.mark.django_db(transaction=True)

S = StepRun.Status
RS = ActionRequest.State
OKTA_FOLLOWERS = {
    "okta.clear_sessions",
    "okta.reset_factors",
    "okta.remove_from_groups",
    "okta.revoke_grants",
    "okta.unassign_apps",
    "okta.lock_devices",
}


def _started(approved_to_start, queue, **kwargs) -> ActionRequest:
    """Approved and started, its first steps ready and not run (the start queued them)."""
    req = approved_to_start("offboard", **kwargs)
    assert runner.action_request_start(action_request_id=req.pk)
    queue.sent.clear()
    return req


def test_the_start_task_runs_the_first_steps_and_their_chains(approved_to_start, queue, steps):
    req = approved_to_start("offboard")
    queue.sent.clear()
    assert tasks.start_request(req.pk) is True
    assert queue.sent == []
    assert {s.status for s in steps(req).values()} == {S.SUCCEEDED}
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_the_lock_task_runs_its_systems_revokes_without_queuing_them(
    approved_to_start, queue, steps
):
    req = _started(approved_to_start, queue, systems=["okta"])
    queue.sent.clear()  # the worker took the suspend's task: no other task waits
    assert tasks.run_step(steps(req)["okta.suspend"].pk) == "applied"
    done = steps(req)
    succeeded = {k for k, s in done.items() if s.status == S.SUCCEEDED}
    # The read-back, made ready by the last of the others, runs in the same chain.
    assert succeeded == {"okta.suspend", "okta.verify"} | OKTA_FOLLOWERS
    assert queue.step_ids() == []
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_a_chain_stops_at_a_lock_step_that_will_be_retried(
    approved_to_start, queue, steps, fake_registry
):
    fake_registry.fail("okta", "suspend", ConnectorError("Okta: busy", retryable=True, status=503))
    req = _started(approved_to_start, queue, systems=["okta"])
    tasks.run_step(steps(req)["okta.suspend"].pk)
    done = steps(req)
    assert done["okta.suspend"].status == S.RETRYING
    assert {done[k].status for k in OKTA_FOLLOWERS} == {S.WAITING}
    assert fake_registry.calls == []
    assert queue.step_ids() == []


def test_a_failed_lock_step_still_lets_its_revokes_run_in_the_chain(
    approved_to_start, queue, steps, fake_registry
):
    fake_registry.fail("okta", "suspend", Fault(ConnectorError("Okta: forbidden", status=403)))
    req = _started(approved_to_start, queue, systems=["okta"])
    tasks.run_step(steps(req)["okta.suspend"].pk)
    done = steps(req)
    assert done["okta.suspend"].status == S.FAILED
    assert {done[k].status for k in OKTA_FOLLOWERS} == {S.SUCCEEDED}
    # The read-back then finds the account not suspended: not verified.
    assert done["okta.verify"].status == S.FAILED
    assert done["okta.verify"].last_error.startswith("Not verified:")


def test_a_step_of_another_system_made_ready_runs_in_the_chain_that_decided_it(
    approved_to_start, queue, steps
):
    """Okta's final deactivate waits for every other step: the completion that decides it (the
    last to commit, here Zoom's) runs it at once, with no trip through the broker."""
    req = _started(
        approved_to_start, queue, systems=["okta", "zoom"], options={"okta_deactivate": True}
    )
    ids = steps(req)
    tasks.run_step(ids["okta.suspend"].pk)
    assert steps(req)["okta.deactivate"].status == S.WAITING  # zoom still to run
    tasks.run_step(ids["zoom.deactivate"].pk)
    # The zoom chain finished what okta.deactivate waited for: it ran there, nothing was queued.
    assert queue.step_ids() == []
    assert steps(req)["okta.deactivate"].status == S.SUCCEEDED
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_a_step_made_ready_by_another_systems_completion_runs_in_its_own_systems_chain(
    approved_to_start, queue, steps, monkeypatch
):
    """Zoom's result commits; before Zoom's completion takes the request's lock, Okta's does and,
    seeing Zoom's result, makes Zoom's read-back ready too. Okta's chain runs only Okta's
    read-back; Zoom's completion, which comes next, takes Zoom's (no thread or offer of Okta's
    process waits on a step Zoom's idle worker is about to run)."""
    from connections.types import OperationResult, Outcome
    from offboarding.runner import execute
    from offboarding.runner.lease import new_lease_owner

    req = approved_to_start("reset_sessions", systems=["okta", "zoom"])
    assert runner.action_request_start(action_request_id=req.pk)
    ids = steps(req)
    claimed = {}
    for key in ("okta.clear_sessions", "zoom.revoke_token"):
        owner = new_lease_owner()
        claimed[key] = (runner.step_run_claim(step_id=ids[key].pk, owner=owner), owner)
    real_move_on, later = execute._move_on, []
    monkeypatch.setattr(execute, "_move_on", lambda *args: later.append(args))
    done = OperationResult(Outcome.DONE, "done")
    zoom_follow: list[int] = []
    step, owner = claimed["zoom.revoke_token"]
    execute.step_run_complete(
        step=step, owner=owner, result=done, error=None, calls=[], follow=zoom_follow
    )
    monkeypatch.setattr(execute, "_move_on", real_move_on)
    okta_follow: list[int] = []
    step, owner = claimed["okta.clear_sessions"]
    execute.step_run_complete(
        step=step, owner=owner, result=done, error=None, calls=[], follow=okta_follow
    )
    assert steps(req)["zoom.verify"].status == S.READY  # decided by Okta's completion
    assert okta_follow == [ids["okta.verify"].pk]
    real_move_on(*later[0])  # Zoom's completion takes the request's lock now
    assert zoom_follow == [ids["zoom.verify"].pk]


def test_followers_run_at_once_on_threads(approved_to_start, queue, steps, fake_registry, settings):
    settings.OFFBOARDING_STEP_THREADS = len(OKTA_FOLLOWERS)
    together = threading.Barrier(len(OKTA_FOLLOWERS), timeout=10)

    def meet(system: str, operation: str) -> None:
        if f"{system}.{operation}" in OKTA_FOLLOWERS:
            together.wait()  # raises (the step is retried) unless all six calls are in flight

    fake_registry.on_call = meet
    req = _started(approved_to_start, queue, systems=["okta"])
    queue.sent.clear()  # the worker took the suspend's task: no other task waits
    assert tasks.run_step(steps(req)["okta.suspend"].pk) == "applied"
    done = steps(req)
    assert {done[k].status for k in OKTA_FOLLOWERS} == {S.SUCCEEDED}
    assert {done[k].attempts for k in OKTA_FOLLOWERS} == {1}


def test_a_task_claims_a_step_only_when_a_thread_is_free_to_run_it(
    approved_to_start, queue, steps, fake_registry, settings
):
    """Claimed steps waiting for a thread would be lost to the idle workers their offers reach;
    with 2 threads for 6 followers, no more than 2 are claimed at any moment."""
    settings.OFFBOARDING_STEP_THREADS = 2
    req = _started(approved_to_start, queue, systems=["okta"])
    suspend = steps(req)["okta.suspend"].pk
    claimed: list[int] = []

    def count(system: str, operation: str) -> None:
        if f"{system}.{operation}" in OKTA_FOLLOWERS:
            running = StepRun.objects.filter(action_request=req, status=S.RUNNING)
            claimed.append(running.count())
            time.sleep(0.05)  # the others are claimed meanwhile, if they are to be

    fake_registry.on_call = count
    assert tasks.run_step(suspend) == "applied"
    assert len(claimed) == len(OKTA_FOLLOWERS)
    assert max(claimed) <= 2
    assert {s.status for s in steps(req).values()} == {S.SUCCEEDED}


def test_a_device_lock_with_nothing_to_lock_lately_still_starts_before_one_call_steps(
    approved_to_start, queue, steps, monkeypatch
):
    """The moving average is a person's, not the operation's: after people with no device, Okta's
    device lock (list, suspend, deactivate) is still expected to take its three calls."""
    from offboarding.runner import timings

    monkeypatch.setattr(timings, "_operation_ms", {})
    monkeypatch.setattr(timings, "_call_ms", [150.0])
    for key in OKTA_FOLLOWERS:
        timings.note_operation_time("okta", key.split(".")[1], 160.0)  # one call each, lately
    req = _started(approved_to_start, queue, systems=["okta"])
    followers = [steps(req)[key].pk for key in sorted(OKTA_FOLLOWERS)]
    rows = StepRun.objects.filter(pk__in=followers)
    ordered = [StepRun.objects.get(pk=pk).key for pk in timings.longest_first(followers, rows)]
    assert ordered[:3] == ["okta.lock_devices", "okta.remove_from_groups", "okta.unassign_apps"]


def test_with_redis_a_task_offers_its_other_steps_to_idle_workers(
    approved_to_start, queue, steps, settings
):
    """Redis hands a task out at once: all but the task's first step are also queued, and
    whichever worker claims a step first runs it (the other finds it taken)."""
    settings.OFFBOARDING_SPREAD_STEPS = True
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:1/0"}
    req = approved_to_start("reset_sessions")
    queue.sent.clear()
    first = {s.pk for s in steps(req).values() if not s.depends_on}
    assert len(first) == 4
    assert tasks.start_request(req.pk) is True
    offered = [args[0] for func, args in queue.sent if func.endswith("take_step")]
    assert len(offered) == 3 == len(queue.sent) and set(offered) < first
    assert {s.status for s in steps(req).values()} == {S.SUCCEEDED}, (
        "ran here: no one else took them"
    )
    assert [tasks.take_step(pk) for pk in offered] == ["not claimed"] * 3
    assert {s.attempts for s in steps(req).values()} == {1}, "each step ran once"


def test_a_task_claims_its_own_first_step_before_it_offers_the_others(
    approved_to_start, queue, steps, settings, monkeypatch
):
    """The offers take a moment each; the first (longest) step does not wait for them."""
    settings.OFFBOARDING_SPREAD_STEPS = True
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:1/0"}
    req = approved_to_start("reset_sessions")
    queue.sent.clear()
    first = [s.pk for s in steps(req).values() if not s.depends_on]
    claimed_at_offer: list[int] = []

    def offer(func: str, *args) -> None:
        claimed = StepRun.objects.filter(pk__in=first).exclude(status__in=StepRun.CLAIMABLE)
        claimed_at_offer.append(claimed.count())
        queue(func, *args)

    monkeypatch.setattr("offboarding.progress.queue_task", offer)
    assert tasks.start_request(req.pk) is True
    assert len(claimed_at_offer) == 3
    assert claimed_at_offer[0] >= 1, "the task's own step was claimed before the first offer"


def test_tasks_are_handed_to_one_broker_client_per_process(monkeypatch):
    """django-q2 makes a broker client (with Redis: a new connection) for each task unless given
    one; the portal hands every task to the same client."""
    from django_q import brokers

    from offboarding import progress

    made: list[object] = []

    class Broker:
        list_key = "test"

        def __init__(self) -> None:
            self.packs: list[str] = []
            made.append(self)

        def enqueue(self, pack: str) -> str:
            self.packs.append(pack)
            return str(len(self.packs))

    monkeypatch.setattr(brokers, "get_broker", lambda *args: Broker())
    monkeypatch.setattr(progress, "_broker", None)
    for step_id in (1, 2, 3):
        progress.queue_task("offboarding.tasks.take_step", step_id)
    assert len(made) == 1
    assert len(made[0].packs) == 3


def test_with_the_orm_broker_a_task_runs_its_steps_without_offering_them(
    approved_to_start, queue, steps, settings
):
    settings.OFFBOARDING_SPREAD_STEPS = True
    settings.Q_CLUSTER = {k: v for k, v in settings.Q_CLUSTER.items() if k != "redis"}
    req = approved_to_start("reset_sessions")
    queue.sent.clear()
    assert tasks.start_request(req.pk) is True
    assert queue.sent == []
    assert {s.status for s in steps(req).values()} == {S.SUCCEEDED}


def test_an_idle_worker_takes_an_offered_step_and_runs_its_chain(approved_to_start, queue, steps):
    req = _started(approved_to_start, queue, systems=["okta"])
    suspend = steps(req)["okta.suspend"]
    assert tasks.take_step(suspend.pk) == "applied"
    assert {s.status for s in steps(req).values()} == {S.SUCCEEDED}, "its followers ran too"
    assert {s.attempts for s in steps(req).values()} == {1}


def test_an_offer_whose_system_is_full_leaves_the_step_to_the_task_that_offered_it(
    approved_to_start, queue, steps, fake_registry
):
    fake_registry.limits["okta"] = 1
    fake_registry.add_user("00u2", "sam.other@example.com")
    req = _started(approved_to_start, queue, systems=["okta"])
    suspend = steps(req)["okta.suspend"]
    # Another request's Okta step holds the only slot.
    other = approved_to_start("offboard", systems=["okta"], okta_id="00u2")
    assert runner.action_request_start(action_request_id=other.pk)
    holder = steps(other)["okta.suspend"]
    assert runner.step_run_claim(step_id=holder.pk, owner="w-holder") is not None
    assert tasks.take_step(suspend.pk) == "left to the task that offered it"
    suspend.refresh_from_db()
    assert suspend.status == S.READY and suspend.attempts == 0 and not suspend.waiting_for_slot


def test_a_chain_keeps_to_the_systems_concurrency_limit(
    approved_to_start, queue, steps, fake_registry, monkeypatch
):
    from connections import registry

    fake_registry.limits["okta"] = 1
    calls = registry.run_operation
    lock, in_flight, peak = threading.Lock(), [0], [0]

    def counted(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            time.sleep(0.05)  # long enough for the four threads to overlap if allowed
            return calls(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(registry, "run_operation", counted)
    req = _started(approved_to_start, queue, systems=["okta"])
    tasks.run_step(steps(req)["okta.suspend"].pk)
    assert peak[0] == 1
    # Followers that found no free slot waited in their threads for one: none was deferred to
    # the broker, none failed for it.
    assert {s.status for s in steps(req).values()} == {S.SUCCEEDED}
    assert {s.attempts for s in steps(req).values()} == {1}
    assert queue.step_ids() == []


def test_the_steps_a_task_runs_are_claimed_longest_first(
    approved_to_start, queue, steps, monkeypatch
):
    """The operation that took longest lately starts first (Okta's device locks: three calls in a
    row), so the request's longest chain is not the last to be claimed."""
    from offboarding.runner import timings

    monkeypatch.setattr(timings, "_operation_ms", {})
    monkeypatch.setattr(timings, "_call_ms", [150.0])
    req = _started(approved_to_start, queue, systems=["okta"])
    followers = [steps(req)[key].pk for key in sorted(OKTA_FOLLOWERS)]
    rows = StepRun.objects.filter(pk__in=followers)
    took = {"lock_devices": 460.0, "unassign_apps": 300.0, "clear_sessions": 150.0}
    for operation, ms in took.items():
        timings.note_operation_time("okta", operation, ms)
    ordered = [StepRun.objects.get(pk=pk).key for pk in timings.longest_first(followers, rows)]
    # remove_from_groups, not timed yet, is guessed at its 2 calls in a row at 150 ms each.
    assert ordered[:3] == ["okta.lock_devices", "okta.remove_from_groups", "okta.unassign_apps"]
    assert ordered[3] == "okta.clear_sessions"
    assert set(ordered[4:]) == OKTA_FOLLOWERS - set(ordered[:4])


def test_before_a_worker_has_timed_an_operation_its_calls_in_a_row_set_the_order(
    approved_to_start, queue, steps, monkeypatch
):
    """A cold worker (no operation timed yet) still starts Okta's device locks (list, suspend,
    deactivate: 3 calls in a row) first, then the list-then-remove steps, then the one-call ones
    in the playbook's order."""
    from offboarding.runner import timings

    monkeypatch.setattr(timings, "_operation_ms", {})
    monkeypatch.setattr(timings, "_call_ms", [0.0])
    req = _started(approved_to_start, queue, systems=["okta"])
    followers = [steps(req)[key].pk for key in sorted(OKTA_FOLLOWERS)]
    rows = StepRun.objects.filter(pk__in=followers)
    ordered = [StepRun.objects.get(pk=pk).key for pk in timings.longest_first(followers, rows)]
    assert ordered[:3] == ["okta.lock_devices", "okta.remove_from_groups", "okta.unassign_apps"]
    one_call = [key for key in sorted(OKTA_FOLLOWERS) if key not in ordered[:3]]
    assert ordered[3:] == one_call
