"""Pacing: while a system's API bucket is (nearly) empty, its steps wait for the refill without
using up attempts; a 429 or a low X-Rate-Limit-Remaining sets the pause."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from connections.types import CallRecord
from offboarding import runner
from offboarding.models import StepRun
from offboarding.runner.pacing import rate_note, rate_paused_until

pytestmark = pytest.mark.django_db
S = StepRun.Status


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _call(remaining: int | None, reset: float | None, status: int = 200) -> CallRecord:
    return CallRecord(
        "okta",
        "POST",
        "/api/v1/users/00u1/lifecycle/suspend",
        status,
        150.0,
        rate_remaining=remaining,
        rate_reset=reset,
    )


def test_a_bucket_at_its_reserve_pauses_the_system_until_it_refills():
    reset = time.time() + 30
    assert rate_note("okta", [_call(50, reset), _call(10, reset)], reserve=10) == reset
    paused = rate_paused_until("okta")
    assert paused is not None and abs(paused.timestamp() - reset) < 0.01
    assert rate_paused_until("google") is None


def test_a_bucket_above_its_reserve_does_not_pause():
    assert rate_note("okta", [_call(11, time.time() + 30)], reserve=10) is None
    assert rate_paused_until("okta") is None


def test_a_429_pauses_until_the_refill_whatever_it_says_is_left():
    reset = time.time() + 20
    assert rate_note("okta", [_call(None, reset, status=429)], reserve=0) == reset
    assert rate_paused_until("okta") is not None


def test_a_refill_time_already_past_does_not_pause():
    assert rate_note("okta", [_call(0, time.time() - 1)], reserve=10) is None


def test_a_paused_systems_step_waits_for_the_refill_without_using_an_attempt(
    approved, queue, steps
):
    req = approved("reset_sessions", systems=["okta", "zoom"])
    queue.run_starts()
    okta, zoom = steps(req)["okta.clear_sessions"], steps(req)["zoom.revoke_token"]
    reset = time.time() + 30
    rate_note("okta", [_call(0, reset)], reserve=10)
    assert runner.step_run_claim(step_id=okta.pk, owner="w1") is None
    okta.refresh_from_db()
    assert okta.status == S.RETRYING and okta.attempts == 0 and not okta.waiting_for_slot
    assert reset <= okta.next_attempt_at.timestamp() <= reset + 1
    assert runner.step_run_claim(step_id=zoom.pk, owner="w1") is not None  # other systems run
    with time_machine.travel(okta.next_attempt_at + timedelta(seconds=1)):
        assert runner.step_run_claim(step_id=okta.pk, owner="w1") is not None


def test_a_step_that_sees_the_bucket_low_pauses_the_next_claims(
    approved, queue, steps, fake_registry, monkeypatch
):
    from connections.types import record_call

    req = approved("reset_sessions", systems=["okta"])
    other = approved(
        "reset_sessions", systems=["okta"], okta_id=fake_registry.add_user("00u2", "b@example.com")
    )
    queue.run_starts()
    fake_registry.on_call = lambda system, op: record_call(_call(3, time.time() + 40))
    with queue.capture(execute=True):
        assert runner.step_run_execute(step_id=steps(req)["okta.clear_sessions"].pk) == "applied"
    assert runner.step_run_claim(step_id=steps(other)["okta.clear_sessions"].pk, owner="w") is None
    assert steps(other)["okta.clear_sessions"].next_attempt_at > timezone.now()


def test_a_paused_system_defers_the_steps_claimed_together_too(
    approved, queue, steps, fake_registry
):
    from offboarding.runner.claim import steps_claim

    req = approved("offboard", systems=["okta", "zoom"])
    queue.run_starts()
    rate_note("okta", [_call(0, time.time() + 30)], reserve=10)
    okta, zoom = steps(req)["okta.suspend"].pk, steps(req)["zoom.deactivate"].pk
    claimed = steps_claim(step_ids=[okta, zoom], owner=lambda: "w")
    assert claimed[okta] is None and claimed[zoom] is not None
    deferred = steps(req)["okta.suspend"]
    assert deferred.status == S.RETRYING and deferred.attempts == 0
    assert deferred.next_attempt_at > timezone.now() + timedelta(seconds=25)


def test_a_cache_that_cannot_be_read_never_stops_a_step(approved, queue, steps, monkeypatch):
    class NoCache:
        def get(self, *args, **kwargs):
            raise RuntimeError("no cache table")

        set = get

    monkeypatch.setattr("offboarding.runner.pacing.cache", NoCache())
    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    assert rate_note("okta", [_call(0, time.time() + 30)], reserve=10) is None
    assert runner.step_run_claim(step_id=steps(req)["okta.clear_sessions"].pk, owner="w")
