"""The step runner with the real registry and clients against the sandbox, faults included.

Tasks are drained in-process (no broker); time moves with time-machine, frozen so that the
sandbox's request log and effect log read the same clock as the runner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
import time_machine
from django.utils import timezone

from connections import registry
from connections.providers import http
from offboarding.models import ActionRequest, StepAttempt, StepRun
from tests.integration.conftest import ALL_SYSTEMS, SANDBOX_NAME

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

S = StepRun.Status
ALICE = "alice.anders@acme.example"
BOB = "bob.brandt@acme.example"  # no Zoom account
DAN = "dan.dalton@acme.example"  # hybrid Graph user: accountEnabled is mastered on-premises
ERIN = "erin.easton@acme.example"  # already SUSPENDED in Okta
RESET_STEP = {
    "okta": "okta.clear_sessions",
    "google": "google.sign_out",
    "zoom": "zoom.revoke_token",
    "msgraph": "msgraph.revoke_sessions",
}
LOCK_STEP = {
    "okta": "okta.suspend",
    "google": "google.suspend",
    "zoom": "zoom.deactivate",
    "msgraph": "msgraph.disable",
}


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _one(req: ActionRequest) -> StepRun:
    """The request's one step (its system's read-back aside)."""
    (step,) = StepRun.objects.filter(action_request=req).exclude(operation="verify")
    return step


def _retry_when_due(flow, step: StepRun, clock) -> StepRun:
    """Move the clock to the step's next attempt, let the sweeper queue it, run it."""
    clock.move_to(step.next_attempt_at + timedelta(milliseconds=10))
    flow.queue.sweep()
    step.refresh_from_db()
    return step


# --- the happy paths ---------------------------------------------------------------------------


def test_reset_sessions_across_four_systems_ends_every_session(flow, connected):
    before = connected.person(ALICE)
    assert before["okta"]["sessions"] > 0 and before["okta"]["client_tokens"] > 0
    req = flow.run("reset_sessions", ALICE)
    assert req.state == ActionRequest.State.SUCCEEDED, req.state_note
    steps = flow.steps(req)
    verifies = {f"{system}.verify" for system in RESET_STEP}
    assert set(steps) == set(RESET_STEP.values()) | verifies
    assert all(s.status == S.SUCCEEDED and s.attempts == 1 for s in steps.values())
    after = connected.person(ALICE)
    assert after["okta"]["sessions"] == 0
    assert after["okta"]["client_tokens"] == 0  # OAuth tokens revoked with the sessions
    assert after["okta"]["status"] == "ACTIVE"  # reset sessions locks nobody out
    assert after["google"]["sign_outs"] == before["google"]["sign_outs"] + 1
    assert after["zoom"]["sso_tokens"] == 0
    assert (
        after["graph"]["signInSessionsValidFromDateTime"]
        > before["graph"]["signInSessionsValidFromDateTime"]
    )
    # Every HTTP exchange is on record, with no secret in it.
    paths = list(StepAttempt.objects.filter(step__action_request=req).values_list("path", "method"))
    assert paths and all("token" not in p.lower() or m != "POST" for p, m in paths)


# Calls each offboard step makes for a person in the usual state (token requests aside): one per
# state change; listing then removing where the items must be named (Okta groups; Google's
# tokens and app passwords, left out here: one DELETE per item). Alice is in one removable group.
OFFBOARD_CALLS = {
    "okta.suspend": ["POST"],
    "okta.clear_sessions": ["DELETE"],
    "okta.reset_factors": ["POST"],
    "okta.remove_from_groups": ["GET", "DELETE"],
    "okta.revoke_grants": ["DELETE"],
    "google.suspend": ["PUT"],
    "google.sign_out": ["POST"],
    "msgraph.disable": ["PATCH"],
    "msgraph.revoke_sessions": ["POST"],
    "zoom.deactivate": ["PUT"],
    "zoom.revoke_token": ["DELETE"],
}


def test_offboard_lock_and_revoke_steps_make_one_call_each_in_the_common_case(flow, connected):
    req = flow.run("offboard", ALICE)
    assert req.state == ActionRequest.State.SUCCEEDED, req.state_note
    made = {
        key: [
            a.method
            for a in step.attempt_records.all()
            if not (a.method == "POST" and a.path.endswith("/token"))
        ]
        for key, step in flow.steps(req).items()
    }
    assert {k: v for k, v in made.items() if k in OFFBOARD_CALLS} == OFFBOARD_CALLS, made
    for lock in LOCK_STEP.values():
        assert flow.steps(req)[lock].outcome == StepRun.Outcome.DONE


def test_offboard_already_suspended_person_is_already_done(flow, connected):
    req = flow.run("offboard", ERIN)
    suspend = flow.steps(req)["okta.suspend"]
    assert (suspend.status, suspend.outcome) == (S.SUCCEEDED, StepRun.Outcome.ALREADY_DONE)
    assert "already suspended" in suspend.detail.lower()
    sent = [
        e
        for e in connected.effects("okta")
        if e["path"].endswith("/lifecycle/suspend") and "/users/" in e["path"]
    ]
    assert [(e["status"], e["applied"]) for e in sent] == [(400, False)]  # refused once, no retry
    assert req.state == ActionRequest.State.SUCCEEDED


def test_offboard_person_without_zoom_skips_zoom_and_locks_the_rest(flow, connected):
    req = flow.run("offboard", BOB)
    steps = flow.steps(req)
    zoom = [s for s in steps.values() if s.system == "zoom"]
    assert zoom and all(s.status == S.SKIPPED for s in zoom)
    assert steps["zoom.deactivate"].outcome == StepRun.Outcome.NO_ACCOUNT
    assert all(s.status == S.SUCCEEDED for s in steps.values() if s.system != "zoom")
    assert req.state == ActionRequest.State.SUCCEEDED
    person = connected.person(BOB)
    assert person["okta"]["status"] == "SUSPENDED" and person["google"]["suspended"]
    assert person["graph"]["accountEnabled"] is False


def test_offboard_hybrid_graph_user_fails_in_words_and_the_others_are_locked(flow, connected):
    req = flow.run("offboard", DAN)
    steps = flow.steps(req)
    disable = steps["msgraph.disable"]
    assert disable.status == S.FAILED
    assert disable.attempts == 1  # permanent: not retried
    assert "on-premises" in disable.last_error and disable.last_error.startswith("Microsoft")
    # One system's failure never holds back another's lockout, nor the Graph sign-out; the
    # read-back then finds the account enabled (not verified).
    assert steps["msgraph.verify"].status == S.FAILED
    others = [s for s in steps.values() if s.key not in ("msgraph.disable", "msgraph.verify")]
    assert all(s.status in (S.SUCCEEDED, S.SKIPPED) for s in others), [
        (s.key, s.status, s.last_error) for s in others
    ]
    assert req.state == ActionRequest.State.PARTIALLY_FAILED
    person = connected.person(DAN)
    assert person["okta"]["status"] == "SUSPENDED" and person["zoom"]["status"] == "inactive"


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("system", ALL_SYSTEMS)
def test_429_retry_after_is_honoured_no_call_before_the_hinted_time(
    flow, connected, request_log, system
):
    req = flow.started("reset_sessions", ALICE, systems=[system])
    request_log.entries.clear()  # the lookups of submit, approval and start are not the step's
    connected.set_fault(SANDBOX_NAME[system], burst_429={"count": 1, "retry_after": 7})
    with time_machine.travel(timezone.now(), tick=False) as clock:
        flow.queue.drain()
        step = _one(req)
        assert step.status == S.RETRYING and "will retry" in step.last_error
        (refused,) = request_log.of(system)
        hinted = refused[0] + timedelta(seconds=7)
        assert step.next_attempt_at >= hinted

        # A second before the hint: the sweeper queues nothing, a stray task claims nothing.
        clock.move_to(hinted - timedelta(seconds=1))
        flow.queue.sweep()
        assert flow.queue.run("offboarding.tasks.run_step", step.pk) == "not claimed"
        assert len(request_log.of(system)) == 1

        step = _retry_when_due(flow, step, clock)
    assert step.status == S.SUCCEEDED and step.attempts == 2
    later = request_log.of(system)[1:]
    assert later and all(at >= hinted for at, *_ in later)
    assert all(_parse(e["time"]) >= hinted for e in connected.effects(SANDBOX_NAME[system])[1:])


@pytest.mark.parametrize("system", ["okta", "msgraph"])
def test_server_errors_are_retried_then_succeed(flow, connected, system):
    req = flow.started("reset_sessions", ALICE, systems=[system])
    connected.set_fault(SANDBOX_NAME[system], error_rate=1.0)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        flow.queue.drain()
        step = _one(req)
        assert step.status == S.RETRYING and "will retry (attempt 1 of 6)" in step.last_error
        step = _retry_when_due(flow, step, clock)  # still failing: attempt 2
        assert step.status == S.RETRYING and step.attempts == 2
        connected.clear_faults()
        step = _retry_when_due(flow, step, clock)
    assert step.status == S.SUCCEEDED and step.attempts == 3
    codes = list(
        StepAttempt.objects.filter(step=step).order_by("id").values_list("status_code", flat=True)
    )
    assert codes[0] in (500, 503) and codes[-1] in (200, 204)


def test_a_hung_call_times_out_and_is_retried(flow, connected, monkeypatch):
    monkeypatch.setattr(
        http, "DEFAULT_TIMEOUT", httpx.Timeout(connect=2.0, read=0.5, write=2.0, pool=2.0)
    )
    registry.reset_clients()
    req = flow.started("reset_sessions", ALICE, systems=["zoom"])
    connected.set_fault("zoom", hang=True)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        try:
            flow.queue.drain()
        finally:
            connected.clear_faults()  # releases the hung request
        step = _one(req)
        assert step.status == S.RETRYING and "no answer in time" in step.last_error
        assert step.probe_first  # a DELETE was sent: the outcome is unknown
        step = _retry_when_due(flow, step, clock)
    assert step.status == S.SUCCEEDED and step.attempts == 2
    assert connected.person(ALICE)["zoom"]["sso_tokens"] == 0


@pytest.mark.parametrize("system", ALL_SYSTEMS)
def test_a_dropped_answer_is_probed_and_never_applied_twice(flow, connected, system):
    name = SANDBOX_NAME[system]
    req = flow.started("offboard", ALICE, systems=[system])
    connected.set_fault(name, apply_then_drop=1)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        flow.queue.drain()
        lock = flow.steps(req)[LOCK_STEP[system]]
        assert lock.status == S.RETRYING and lock.probe_first
        assert "may or may not have been made" in lock.last_error
        connected.clear_faults()
        lock = _retry_when_due(flow, lock, clock)
        flow.queue.drain()
    assert (lock.status, lock.outcome) == (S.SUCCEEDED, StepRun.Outcome.ALREADY_DONE)
    assert "found by a check" in lock.detail
    effects = connected.effects(name)
    dropped = effects[0]
    assert dropped["fault"] == "apply_then_drop" and dropped["applied"]
    same = [e for e in effects if (e["method"], e["path"]) == (dropped["method"], dropped["path"])]
    assert same == [dropped]  # exactly one state-changing call: no second suspend
    req.refresh_from_db()
    assert req.state == ActionRequest.State.SUCCEEDED


def test_a_permanent_error_fails_at_once_with_the_upstream_words(flow, connected):
    # Zoom refuses to change the account owner's status: a 400 that will not change on a retry.
    req = flow.started("offboard", "admin@acme.example", systems=["zoom"])
    flow.queue.drain()
    deactivate = flow.steps(req)["zoom.deactivate"]
    assert deactivate.status == S.FAILED and deactivate.attempts == 1
    assert deactivate.next_attempt_at is None
    assert deactivate.last_error == "Zoom: Can not change the status of the account owner. (200)"
    (refused,) = StepAttempt.objects.filter(step=deactivate, method="PUT")
    assert (refused.status_code, refused.error_code) == (400, "200")
    assert flow.queue.run("offboarding.tasks.run_step", deactivate.pk) == "not claimed"
    status_calls = [e for e in connected.effects("zoom") if e["path"].endswith("/status")]
    assert [e["status"] for e in status_calls] == [400]  # sent once, never again


def test_a_refusal_fails_at_once_in_words_after_one_call(flow, connected):
    req = flow.started("offboard", DAN, systems=["msgraph"])
    flow.queue.drain()
    disable = flow.steps(req)["msgraph.disable"]
    assert disable.status == S.FAILED and disable.attempts == 1
    assert "synchronised from on-premises Active Directory" in disable.last_error
    patches = [
        e for e in connected.effects("graph") if e["method"] == "PATCH" and "/users/" in e["path"]
    ]
    assert [(e["status"], e["applied"]) for e in patches] == [(400, False)]  # sent once, refused
