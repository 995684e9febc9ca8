"""A step task runs the same-system steps its step made ready (lock → revokes) in the same task."""

from __future__ import annotations

import threading

import pytest

from connections.types import ConnectorError
from offboarding import tasks
from offboarding.models import ActionRequest, StepRun
from tests.offboarding.conftest import Fault

S = StepRun.Status
RS = ActionRequest.State
OKTA_FOLLOWERS = {
    "okta.clear_sessions",
    "okta.reset_factors",
    "okta.remove_from_groups",
    "okta.revoke_grants",
}


def _started(approved, queue, **kwargs) -> ActionRequest:
    req = approved("offboard", **kwargs)
    queue.run_starts()
    queue.sent.clear()
    return req


def test_the_lock_task_runs_its_systems_revokes_without_queuing_them(
    approved, queue, steps, fake_registry
):
    req = _started(approved, queue, systems=["okta"])
    with queue.capture(execute=True):
        assert tasks.run_step(steps(req)["okta.suspend"].pk) == "applied"
    done = steps(req)
    assert {k for k, s in done.items() if s.status == S.SUCCEEDED} == {
        "okta.suspend"
    } | OKTA_FOLLOWERS
    assert queue.step_ids() == []
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_a_chain_stops_at_a_lock_step_that_will_be_retried(approved, queue, steps, fake_registry):
    fake_registry.fail("okta", "suspend", ConnectorError("Okta: busy", retryable=True, status=503))
    req = _started(approved, queue, systems=["okta"])
    with queue.capture(execute=True):
        tasks.run_step(steps(req)["okta.suspend"].pk)
    done = steps(req)
    assert done["okta.suspend"].status == S.RETRYING
    assert {done[k].status for k in OKTA_FOLLOWERS} == {S.WAITING}
    assert [c[:2] for c in fake_registry.calls] == []
    assert queue.step_ids() == []


def test_steps_of_another_system_made_ready_are_queued_not_followed(
    approved, queue, steps, fake_registry
):
    req = _started(approved, queue, systems=["okta", "zoom"], options={"okta_deactivate": True})
    ids = steps(req)
    with queue.capture(execute=True):
        tasks.run_step(ids["okta.suspend"].pk)
        assert steps(req)["okta.deactivate"].status == S.WAITING  # zoom still to run
        tasks.run_step(ids["zoom.deactivate"].pk)
    # The zoom chain finished everything okta.deactivate waited for: it is queued, not run here.
    assert queue.step_ids() == [ids["okta.deactivate"].pk]
    assert steps(req)["okta.deactivate"].status == S.READY
    queue.drain()
    assert steps(req)["okta.deactivate"].status == S.SUCCEEDED


def test_a_failed_lock_step_still_lets_its_revokes_run_in_the_chain(
    approved, queue, steps, fake_registry
):
    fake_registry.fail("okta", "suspend", Fault(ConnectorError("Okta: forbidden", status=403)))
    req = _started(approved, queue, systems=["okta"])
    with queue.capture(execute=True):
        tasks.run_step(steps(req)["okta.suspend"].pk)
    done = steps(req)
    assert done["okta.suspend"].status == S.FAILED
    assert {done[k].status for k in OKTA_FOLLOWERS} == {S.SUCCEEDED}


@pytest.mark.django_db(transaction=True)
def test_followers_run_at_once_on_threads(approved, queue, steps, fake_registry, settings):
    settings.OFFBOARDING_STEP_THREADS = 4
    together = threading.Barrier(len(OKTA_FOLLOWERS), timeout=10)

    def meet(system: str, operation: str) -> None:
        if f"{system}.{operation}" in OKTA_FOLLOWERS:
            together.wait()  # raises (the step is retried) unless all four calls are in flight

    fake_registry.on_call = meet
    req = _started(approved, queue, systems=["okta"])
    assert tasks.run_step(steps(req)["okta.suspend"].pk) == "applied"
    done = steps(req)
    assert {done[k].status for k in OKTA_FOLLOWERS} == {S.SUCCEEDED}
    assert {done[k].attempts for k in OKTA_FOLLOWERS} == {1}
