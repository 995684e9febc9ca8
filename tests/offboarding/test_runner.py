"""The step runner: claim, lease, fencing, retries, probes, dependencies, limits, sweeper, quarantine."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from connections.types import ConnectorError
from offboarding import playbooks, progress, runner
from offboarding import services as svc
from offboarding.exceptions import InvalidTransition, NotAllowed
from offboarding.models import ActionRequest, AuditEvent, StepAttempt, StepRun
from tests.offboarding.conftest import Fault

pytestmark = pytest.mark.django_db
S = StepRun.Status
RS = ActionRequest.State


def transient(message="Okta: rate limited (429)", retry_after=None, status=429):
    return ConnectorError(
        message, system="okta", retryable=True, retry_after=retry_after, status=status
    )


def permanent(message="Google: not authorised (403)"):
    return ConnectorError(message, system="google", retryable=False, status=403, code="forbidden")


def unknown(message="Okta: no answer in time (timeout)"):
    return ConnectorError(message, retryable=True, outcome_unknown=True, code="timeout")


def run(queue, req):
    queue.drain()
    req.refresh_from_db()
    return req


def test_offboard_runs_every_system_to_success(approved, queue, steps, fake_registry, mailoutbox):
    req = run(queue, approved("offboard"))
    assert req.state == RS.SUCCEEDED and req.started_at and req.finished_at
    assert {s.status for s in steps(req).values()} == {S.SUCCEEDED}
    order = [c[:2] for c in fake_registry.calls]
    for system, lock in (
        ("okta", "suspend"),
        ("google", "suspend"),
        ("msgraph", "disable"),
        ("zoom", "deactivate"),
    ):
        first = next(i for i, c in enumerate(order) if c[0] == system)
        assert order[first] == (system, lock), "a system locks before it revokes"
    assert ("okta", "deactivate") not in order, "deactivate runs only when chosen"
    assert fake_registry.calls[order.index(("okta", "clear_sessions"))][3] == {
        "oauth_tokens": True,
        "forget_devices": True,
    }
    assert AuditEvent.objects.filter(action=AuditEvent.Action.STEP_OUTCOME).count() == 22
    # Each system was read back after its steps, and said so.
    verified = AuditEvent.objects.filter(action=AuditEvent.Action.SYSTEM_VERIFIED)
    assert sorted(e.details["system"] for e in verified) == sorted(playbooks.ALL_SYSTEMS)
    assert {e.details["verdict"] for e in verified} == {"verified"}
    assert mailoutbox[-1].to == ["helpdesk@portal.test"] and "succeeded" in mailoutbox[-1].subject


def test_attempts_record_each_call_without_secrets(approved, queue, steps):
    req = run(queue, approved("reset_sessions"))
    attempt = StepAttempt.objects.get(step=steps(req)["okta.clear_sessions"])
    assert (attempt.attempt_no, attempt.method, attempt.path, attempt.status_code) == (
        1,
        "POST",
        "/okta/users/00u1/clear_sessions",
        200,
    )


def test_final_deactivate_runs_last_when_all_others_succeeded(
    approved, queue, fake_registry, steps
):
    req = run(queue, approved("offboard", options={"okta_deactivate": True}))
    assert req.state == RS.SUCCEEDED
    assert fake_registry.calls[-1][:2] == ("okta", "deactivate")
    assert steps(req)["okta.deactivate"].status == S.SUCCEEDED


def test_final_deactivate_is_not_run_when_another_system_failed(
    approved, queue, fake_registry, steps
):
    fake_registry.fail("google", "suspend", permanent())
    req = run(queue, approved("offboard", options={"okta_deactivate": True}))
    got = steps(req)
    assert got["google.suspend"].status == S.FAILED
    assert got["google.suspend"].last_error == "Google: not authorised (403)"
    # The lock failed, but the person is still signed out of Google: lock out as much as we can.
    assert got["google.sign_out"].status == S.SUCCEEDED
    assert ("google", "sign_out") in [c[:2] for c in fake_registry.calls]
    assert got["okta.deactivate"].status == S.CANCELLED
    assert got["okta.deactivate"].detail == "not run: Google Workspace suspend failed"
    assert ("okta", "deactivate") not in [c[:2] for c in fake_registry.calls]
    # One system's failure never holds back another's lockout.
    assert (
        got["okta.suspend"].status
        == got["msgraph.disable"].status
        == got["zoom.deactivate"].status
        == S.SUCCEEDED
    )
    assert req.state == RS.PARTIALLY_FAILED


def test_everything_failing_makes_the_request_failed(approved, queue, fake_registry, mailoutbox):
    for system, op in (
        ("okta", "clear_sessions"),
        ("google", "sign_out"),
        ("zoom", "revoke_token"),
        ("msgraph", "revoke_sessions"),
    ):
        fake_registry.fail(system, op, permanent(f"{system}: forbidden"))
    req = run(queue, approved("reset_sessions"))
    assert req.state == RS.FAILED
    assert "failed" in mailoutbox[-1].subject


def test_no_account_is_skipped_and_its_revoke_steps_too(approved, queue, fake_registry, steps):
    del fake_registry.accounts[("zoom", "00u1")]
    req = run(queue, approved("offboard", options={"okta_deactivate": True}))
    got = steps(req)
    assert (got["zoom.deactivate"].status, got["zoom.deactivate"].outcome) == (
        S.SKIPPED,
        "no_account",
    )
    assert got["zoom.revoke_token"].status == S.SKIPPED
    assert got["zoom.revoke_token"].detail == "not run: no Zoom account"
    assert got["okta.deactivate"].status == S.SUCCEEDED, (
        "a skipped system does not block deactivation"
    )
    assert req.state == RS.SUCCEEDED


def test_already_done_counts_as_success(approved, queue, fake_registry, steps):
    fake_registry.accounts[("google", "00u1")]["locked_out"] = True
    req = run(queue, approved("offboard"))
    assert (steps(req)["google.suspend"].status, steps(req)["google.suspend"].outcome) == (
        S.SUCCEEDED,
        "already_done",
    )


def test_transient_error_is_retried_with_backoff_not_before_the_hint(
    approved, queue, fake_registry, steps
):
    fake_registry.fail("okta", "suspend", transient(retry_after=40))
    req = run(queue, approved("offboard", systems=["okta"]))
    step = steps(req)["okta.suspend"]
    assert step.status == S.RETRYING and step.attempts == 1
    assert "will retry (attempt 1 of 6)" in step.last_error
    hinted = step.next_attempt_at
    assert hinted - step.updated_at >= timedelta(seconds=40)
    # Not a single call before the hinted time, whatever wakes the runner.
    with time_machine.travel(hinted - timedelta(seconds=1)):
        assert runner.step_run_execute(step_id=step.pk) == "not claimed"
        queue.sweep()
        queue.drain()
    assert fake_registry.effectful_calls("okta", "suspend") == []
    with time_machine.travel(hinted + timedelta(seconds=1)):
        queue.sweep()
        queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED
    assert steps(req)["okta.suspend"].attempts == 2


def test_backoff_is_full_jitter_capped_and_honours_retry_after():
    for attempt in range(1, 8):
        ceiling = min(
            settings.OFFBOARDING_BACKOFF_CAP, settings.OFFBOARDING_BACKOFF_BASE * 2 ** (attempt - 1)
        )
        delays = [runner.backoff_delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 150, "jitter spreads retries"
    assert all(runner.backoff_delay(1, retry_after=30) >= 30 for _ in range(50))


def test_transient_errors_give_up_after_six_attempts(approved, queue, fake_registry, steps):
    fake_registry.fail(
        "okta", "clear_sessions", *[transient(status=503, message="Okta: unavailable (503)")] * 6
    )
    req = run(queue, approved("reset_sessions", systems=["okta"]))
    step = steps(req)["okta.clear_sessions"]
    now = timezone.now()
    for _ in range(6):
        now += timedelta(seconds=400)
        with time_machine.travel(now):
            queue.sweep()
            queue.drain()
    step.refresh_from_db()
    assert step.status == S.FAILED and step.attempts == 6
    assert step.last_error == "gave up after 6 attempts: Okta: unavailable (503)"
    assert len(fake_registry.faults[("okta", "clear_sessions")]) == 0
    req.refresh_from_db()
    assert req.state == RS.FAILED


def test_unknown_outcome_is_probed_before_repeating_a_destructive_step(
    approved, queue, fake_registry, steps
):
    # The suspend lands, then the answer is lost.
    fake_registry.fail("okta", "suspend", Fault(unknown(), apply_first=True))
    req = run(queue, approved("offboard", systems=["okta"]))
    step = steps(req)["okta.suspend"]
    assert step.status == S.RETRYING and step.probe_first
    with time_machine.travel(step.next_attempt_at + timedelta(seconds=1)):
        queue.sweep()
        queue.drain()
    step.refresh_from_db()
    assert (step.status, step.outcome) == (S.SUCCEEDED, "already_done")
    assert len(fake_registry.effectful_calls("okta", "suspend")) == 1, "no second suspend"
    assert ("okta", "00u1") in fake_registry.reads


def test_unknown_outcome_that_did_not_land_is_repeated_after_the_probe(
    approved, queue, fake_registry, steps
):
    fake_registry.fail("google", "suspend", unknown())
    req = run(queue, approved("offboard", systems=["google"]))
    step = steps(req)["google.suspend"]
    with time_machine.travel(step.next_attempt_at + timedelta(seconds=1)):
        queue.sweep()
        queue.drain()
    step.refresh_from_db()
    assert (step.status, step.outcome) == (S.SUCCEEDED, "done")
    assert len(fake_registry.effectful_calls("google", "suspend")) == 1


def test_a_step_is_claimed_once(approved, queue, steps):
    req = approved("reset_sessions", systems=["google"])
    queue.run_starts()
    step = steps(req)["google.sign_out"]
    assert step.status == S.READY
    first = runner.step_run_claim(step_id=step.pk, owner="worker-a")
    second = runner.step_run_claim(step_id=step.pk, owner="worker-b")
    assert first is not None and first.lease_owner == "worker-a" and first.attempts == 1
    assert first.lease_expires_at > timezone.now()
    assert second is None


def test_several_steps_are_claimed_at_once_within_each_systems_limit(
    approved, queue, steps, fake_registry
):
    """A level of steps is claimed together (one transaction per system): each claimed step has
    its own lease; those beyond the system's free slots are left as they were, for the caller to
    wait for a slot; a step already taken is not taken again."""
    from offboarding.runner.claim import FULL, steps_claim

    fake_registry.limits["okta"] = 2
    req = approved("offboard", systems=["okta", "zoom"])
    queue.run_starts()
    suspend, deactivate = steps(req)["okta.suspend"], steps(req)["zoom.deactivate"]
    owners = iter(["w-1", "w-2", "w-3"])
    claimed = steps_claim(step_ids=[suspend.pk, deactivate.pk], owner=lambda: next(owners))
    assert claimed[suspend.pk].lease_owner == "w-1" and claimed[suspend.pk].attempts == 1
    assert claimed[deactivate.pk].lease_owner == "w-2"
    assert steps(req)["zoom.deactivate"].status == S.RUNNING
    again = steps_claim(step_ids=[suspend.pk], owner=lambda: "w-4")
    assert again == {suspend.pk: None}, "taken already"
    # Okta's limit is 2 and its suspend holds one slot: of three more Okta steps one is claimed.
    other = approved("offboard", systems=["okta"], okta_id=fake_registry.add_user("00u2", "b@x.io"))
    third = approved("offboard", systems=["okta"], okta_id=fake_registry.add_user("00u3", "c@x.io"))
    fourth = approved(
        "offboard", systems=["okta"], okta_id=fake_registry.add_user("00u4", "d@x.io")
    )
    queue.run_starts()
    ids = [steps(r)["okta.suspend"].pk for r in (other, third, fourth)]
    claimed = steps_claim(step_ids=ids, owner=lambda: "w-5")
    assert [claimed[pk] if claimed[pk] == FULL else "claimed" for pk in ids] == [
        "claimed",
        FULL,
        FULL,
    ]
    left = StepRun.objects.filter(pk__in=ids[1:])
    assert {(s.status, s.attempts, s.waiting_for_slot) for s in left} == {(S.READY, 0, False)}


def test_a_system_whose_claim_fails_is_left_to_try_again_and_the_others_are_claimed(
    approved, queue, steps, monkeypatch
):
    from offboarding.runner import claim

    req = approved("offboard", systems=["okta", "zoom"])
    queue.run_starts()
    okta, zoom = steps(req)["okta.suspend"].pk, steps(req)["zoom.deactivate"].pk
    counted = claim._running

    def running(system, now):
        if system == "okta":
            raise RuntimeError("database went away")
        return counted(system, now)

    monkeypatch.setattr(claim, "_running", running)
    claimed = claim.steps_claim(step_ids=[okta, zoom], owner=lambda: "w")
    assert claimed[okta] == claim.FULL and claimed[zoom].lease_owner == "w"
    assert (steps(req)["okta.suspend"].status, steps(req)["okta.suspend"].attempts) == (S.READY, 0)


def test_a_lock_steps_followers_are_made_ready_in_one_update(approved, queue, steps):
    """Deciding a request's next steps costs one UPDATE per kind of decision, not one per step."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    suspend = steps(req)["okta.suspend"]
    StepRun.objects.filter(pk=suspend.pk).transition(
        to=S.RUNNING, fence=S.READY, attempts=1, lease_owner="w"
    )
    StepRun.objects.filter(pk=suspend.pk).transition(to=S.SUCCEEDED, fence=S.RUNNING)
    with CaptureQueriesContext(connection) as ctx:
        ready = progress.advance(req.pk, timezone.now())
    updates = [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    followers = {k: s for k, s in steps(req).items() if k not in ("okta.suspend", "okta.verify")}
    assert sorted(ready) == sorted(s.pk for s in followers.values())
    assert {s.status for s in followers.values()} == {S.READY}


def test_a_late_result_from_a_lost_lease_is_recorded_stale_and_not_applied(
    approved, queue, steps, fake_registry
):
    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    queue.sent.clear()
    step = steps(req)["okta.suspend"]
    claimed = runner.step_run_claim(step_id=step.pk, owner="slow-worker")
    # The lease runs out; the sweeper hands the step to another worker, which finishes it.
    with time_machine.travel(claimed.lease_expires_at + timedelta(seconds=1)):
        assert queue.sweep().lost_leases == 1
        queue.drain()
    step.refresh_from_db()
    assert step.status == S.SUCCEEDED and step.crash_count == 1
    # Now the slow worker comes back with a failure.
    result = runner.step_run_complete(
        step=claimed, owner="slow-worker", result=None, error=permanent(), calls=[]
    )
    assert result is False
    step.refresh_from_db()
    assert step.status == S.SUCCEEDED and step.last_error == ""
    stale = StepAttempt.objects.get(step=step, stale=True)
    assert stale.lease_owner == "slow-worker" and "not authorised" in stale.message


def test_a_step_that_keeps_crashing_workers_is_quarantined(approved, queue, steps, fake_registry):
    req = approved("offboard", systems=["zoom"])
    queue.run_starts()
    queue.sent.clear()
    step = steps(req)["zoom.deactivate"]
    now = timezone.now()
    for crash in range(1, 4):
        with time_machine.travel(now):
            claimed = runner.step_run_claim(step_id=step.pk, owner=f"doomed-{crash}")
            assert claimed is not None, f"claim {crash}"
        now = claimed.lease_expires_at + timedelta(seconds=1)
        with time_machine.travel(now):
            queue.sweep()
        queue.sent.clear()
    step.refresh_from_db()
    assert step.status == S.FAILED and step.crash_count == 3
    assert step.last_error == "stopped: step kept crashing workers"
    assert fake_registry.calls == []
    # The revoke behind the quarantined lock still runs: sign the person out regardless.
    assert steps(req)["zoom.revoke_token"].status == S.READY
    # Its queued task was dropped above (sent.clear); the sweeper brings it back.
    with time_machine.travel(now + timedelta(seconds=settings.OFFBOARDING_REQUEUE_AFTER + 1)):
        queue.sweep()
        queue.drain()
    assert [c[:2] for c in fake_registry.calls] == [("zoom", "revoke_token")]
    req.refresh_from_db()
    assert req.state == RS.PARTIALLY_FAILED


def test_a_crashed_attempt_is_probed_before_it_is_repeated(approved, queue, steps, fake_registry):
    req = approved("offboard", systems=["msgraph"])
    queue.run_starts()
    queue.sent.clear()
    step = steps(req)["msgraph.disable"]
    claimed = runner.step_run_claim(step_id=step.pk, owner="killed")
    fake_registry.run_operation(
        "msgraph", "disable", target=claimed.action_request.target
    )  # landed, then kill -9
    with time_machine.travel(claimed.lease_expires_at + timedelta(seconds=1)):
        queue.sweep()
        queue.drain()
    step.refresh_from_db()
    assert (step.status, step.outcome) == (S.SUCCEEDED, "already_done")
    assert len(fake_registry.effectful_calls("msgraph", "disable")) == 1


def test_the_sweeper_re_enqueues_ready_steps_the_broker_lost(approved, queue, steps):
    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    queue.sent.clear()  # the broker lost the step's task
    assert queue.sweep().requeued == 0, "too early to call it lost"
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.OFFBOARDING_REQUEUE_AFTER + 1)
    ):
        assert queue.sweep().requeued == 1
        assert queue.sweep().requeued == 0, "not enqueued twice in a row"
        queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_a_crash_between_a_result_and_moving_its_request_on_is_repaired_by_the_sweeper(
    approved, queue, steps, monkeypatch
):
    """A step's result commits before its dependents are decided: a worker that dies in between
    leaves a running request with nothing to run, which the next sweep moves on."""
    from offboarding.runner import execute

    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    queue.sent.clear()
    revoke, verify = steps(req)["okta.clear_sessions"], steps(req)["okta.verify"]
    claimed = runner.step_run_claim(step_id=revoke.pk, owner="w1")
    result, error, calls = runner.step_run_call(claimed)

    def die(*args, **kwargs):
        raise RuntimeError("the worker died here")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(execute, "_move_on", die)
        runner.step_run_complete(step=claimed, owner="w1", result=result, error=error, calls=calls)
    revoke.refresh_from_db()
    verify.refresh_from_db()
    assert revoke.status == S.SUCCEEDED and verify.status == S.WAITING
    assert AuditEvent.objects.filter(action=AuditEvent.Action.STEP_OUTCOME).count() == 1
    report = queue.sweep()
    assert report.repaired == 1 and queue.step_ids() == [verify.pk]
    assert queue.sweep().repaired == 0, "moved on once"
    queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_the_sweeper_restarts_an_approved_request_whose_start_was_lost(approved_to_start, queue):
    req = approved_to_start("reset_sessions")
    queue.sent.clear()
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.OFFBOARDING_REQUEUE_AFTER + 1)
    ):
        assert queue.sweep().started == 1
        queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_steps_a_dead_task_was_to_run_itself_are_queued_after_the_short_follow_grace(
    approved_to_start, queue, monkeypatch
):
    """The start task made the first steps ready to run them on its threads, then died: they are
    queued OFFBOARDING_FOLLOW_REQUEUE_AFTER later, not OFFBOARDING_REQUEUE_AFTER."""
    req = approved_to_start("reset_sessions")
    queue.sent.clear()
    monkeypatch.setattr("offboarding.runner.start.steps_run_here", lambda ids: None)
    assert runner.action_request_start(action_request_id=req.pk, run_here=True)
    ready = list(StepRun.objects.filter(action_request=req, status=S.READY))
    assert ready and all(s.followed for s in ready) and queue.step_ids() == []
    assert queue.sweep().requeued == 0, "its threads may still be claiming them"
    grace = settings.OFFBOARDING_FOLLOW_REQUEUE_AFTER
    assert grace < settings.OFFBOARDING_REQUEUE_AFTER
    with time_machine.travel(timezone.now() + timedelta(seconds=grace + 1)):
        assert queue.sweep().requeued == len(ready)
        assert not StepRun.objects.filter(followed=True).exists()
        queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_a_completion_marks_the_steps_it_hands_to_its_task_as_followed(approved, queue, steps):
    req = approved("offboard", systems=["okta"])
    queue.run_starts()
    suspend = steps(req)["okta.suspend"]
    follow: list[int] = []
    assert runner.step_run_execute(step_id=suspend.pk, follow=follow) == "applied"
    assert follow and queue.step_ids() == [suspend.pk], "handed to the task, not queued"
    assert set(StepRun.objects.filter(followed=True).values_list("pk", flat=True)) == set(follow)
    grace = settings.OFFBOARDING_FOLLOW_REQUEUE_AFTER + 1
    with time_machine.travel(timezone.now() + timedelta(seconds=grace)):  # the task died
        assert queue.sweep().requeued == len(follow)


def test_steps_queued_to_the_broker_wait_the_full_requeue_age(approved, queue):
    req = approved("reset_sessions")
    queue.run_starts()
    ready = StepRun.objects.filter(action_request=req, status=S.READY)
    assert ready.exists() and not ready.filter(followed=True).exists()
    later = settings.OFFBOARDING_FOLLOW_REQUEUE_AFTER + 1
    with time_machine.travel(timezone.now() + timedelta(seconds=later)):
        assert queue.sweep().requeued == 0, "their tasks are in the broker"


def test_concurrency_limit_defers_claims_beyond_it(approved, queue, steps, fake_registry):
    fake_registry.limits["okta"] = 1
    fake_registry.add_user("00u2", "sam.other@example.com")
    first = approved("reset_sessions", systems=["okta"])
    second = approved("reset_sessions", systems=["okta"], okta_id="00u2")
    queue.run_starts()
    queue.sent.clear()
    a, b = steps(first)["okta.clear_sessions"], steps(second)["okta.clear_sessions"]
    assert runner.step_run_claim(step_id=a.pk, owner="w1") is not None
    assert runner.step_run_claim(step_id=b.pk, owner="w2") is None
    b.refresh_from_db()
    assert b.status == S.RETRYING and b.waiting_for_slot and b.attempts == 0
    # When the slot frees up, the waiting step is woken at once.
    claimed = StepRun.objects.select_related("action_request").get(pk=a.pk)
    result, error, calls = runner.step_run_call(claimed)
    with queue.capture(execute=True):
        runner.step_run_complete(step=claimed, owner="w1", result=result, error=error, calls=calls)
    # The first request's read-back is ready now too, queued before the woken step.
    assert queue.step_ids() == [steps(first)["okta.verify"].pk, b.pk]
    queue.drain()
    b.refresh_from_db()
    assert b.status == S.SUCCEEDED


def test_cancel_while_running_stops_steps_not_started(
    approved, queue, steps, helpdesk, fake_registry
):
    fake_registry.fail("okta", "suspend", transient(retry_after=60))
    req = run(queue, approved("offboard", systems=["okta", "zoom"]))
    req = svc.action_request_cancel(action_request_id=req.pk, actor=helpdesk)
    got = steps(req)
    assert (
        got["okta.suspend"].status == S.CANCELLED
        and got["okta.clear_sessions"].status == S.CANCELLED
    )
    assert got["zoom.deactivate"].status == S.SUCCEEDED
    assert req.state == RS.PARTIALLY_FAILED
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        queue.sweep()
        queue.drain()
    assert fake_registry.effectful_calls("okta") == []


def test_retry_a_system_reruns_its_failed_steps_and_what_waited_on_them(
    approved, queue, steps, fake_registry, helpdesk, outsider
):
    fake_registry.fail("google", "suspend", permanent())
    req = run(queue, approved("offboard", options={"okta_deactivate": True}))
    assert req.state == RS.PARTIALLY_FAILED
    with pytest.raises(NotAllowed):
        svc.action_request_retry_system(action_request_id=req.pk, actor=outsider, system="google")
    with pytest.raises(InvalidTransition):
        svc.action_request_retry_system(action_request_id=req.pk, actor=helpdesk, system="zoom")
    with queue.capture(execute=True):
        ready = svc.action_request_retry_system(
            action_request_id=req.pk, actor=helpdesk, system="google"
        )
    assert ready == [steps(req)["google.suspend"].pk]
    req = run(queue, req)
    assert req.state == RS.SUCCEEDED
    assert steps(req)["okta.deactivate"].status == S.SUCCEEDED


def test_a_target_moved_into_a_protected_group_before_the_run_is_refused(
    approved_to_start, queue, fake_registry, protected, steps, mailoutbox
):
    req = approved_to_start("offboard")
    fake_registry.move_into_group("00u1", "00gAdmins", "Admins")
    req = run(queue, req)  # the start task reads Okta again
    assert req.state == RS.FAILED
    assert req.state_note.startswith("Refused before the first step:")
    assert "Okta administrators" in req.state_note
    assert {s.status for s in steps(req).values()} == {S.CANCELLED}
    assert fake_registry.calls == []
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REQUEST_REFUSED).exists()


def test_okta_unreachable_at_start_leaves_the_request_for_the_sweeper(
    approved_to_start, queue, fake_registry
):
    req = approved_to_start("reset_sessions")
    fake_registry.okta_down = ConnectorError("Okta: unavailable", retryable=True, status=503)
    req = run(queue, req)
    assert req.state == RS.APPROVED
    fake_registry.okta_down = None
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.OFFBOARDING_REQUEUE_AFTER + 1)
    ):
        queue.sweep()
        queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_running_a_step_twice_is_harmless(approved, queue, steps, fake_registry):
    req = approved("reset_sessions", systems=["zoom"])
    queue.drain()
    step = steps(req)["zoom.revoke_token"]
    assert runner.step_run_execute(step_id=step.pk) == "not claimed"
    assert len(fake_registry.effectful_calls("zoom")) == 1


def test_reinstate_undoes_an_offboard(approved, queue, fake_registry, steps):
    run(queue, approved("offboard"))
    assert fake_registry.accounts[("okta", "00u1")]["locked_out"]
    req = run(queue, approved("reinstate"))
    assert req.state == RS.SUCCEEDED
    assert not any(a["locked_out"] for a in fake_registry.accounts.values())


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([("succeeded", ""), ("skipped", "")], RS.SUCCEEDED),
        ([("succeeded", ""), ("failed", "")], RS.PARTIALLY_FAILED),
        ([("failed", ""), ("cancelled", "dependency")], RS.FAILED),
        ([("cancelled", "user"), ("cancelled", "user")], RS.CANCELLED),
        ([("succeeded", ""), ("cancelled", "user")], RS.PARTIALLY_FAILED),
        ([("succeeded", ""), ("running", "")], None),
    ],
)
def test_request_state_is_derived_from_its_steps(statuses, expected):
    assert progress.derive_state(statuses) == expected
