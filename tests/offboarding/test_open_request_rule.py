"""One open request per action and person, held by the database (a partial unique index) as well as
by the service's check: a twin that slips past the check is refused with the same clear message, a
scheduled request that an urgent one overtook waits for it, and a retry cannot open a twin."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from offboarding import services as svc
from offboarding.exceptions import InvalidRequest, InvalidTransition
from offboarding.models import ActionRequest, StepRun
from offboarding.services import submit
from tests.offboarding.test_runner import permanent, run

pytestmark = pytest.mark.django_db
RS = ActionRequest.State
CONSTRAINT = "request_one_open_per_action_and_person"


def _twin_of(req: ActionRequest, *, state: str) -> ActionRequest:
    """A row written straight to the table, as a second submitter racing the check would."""
    return ActionRequest.objects.create(
        kind=req.kind,
        state=state,
        target_okta_id=req.target_okta_id,
        target_login=req.target_login,
        reason="twin",
        requester=req.requester,
        fingerprint=req.fingerprint,
    )


def test_the_open_states_are_those_the_service_refuses_twins_in():
    assert set(ActionRequest.OPEN_STATES) == {
        RS.DRAFT,
        RS.PENDING_APPROVAL,
        RS.APPROVED,
        RS.RUNNING,
    }


def test_the_database_has_the_partial_unique_index(make_request):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, ActionRequest._meta.db_table)
    assert CONSTRAINT in found
    assert found[CONSTRAINT]["unique"] and found[CONSTRAINT]["columns"] == [
        "kind",
        "target_okta_id",
    ]
    req = make_request("offboard")
    with pytest.raises(IntegrityError), transaction.atomic():
        _twin_of(req, state=RS.RUNNING)
    # Ended and scheduled requests are not open: the index lets them be.
    for state in (RS.SUCCEEDED, RS.FAILED, RS.CANCELLED, RS.SCHEDULED):
        _twin_of(req, state=state)
    # Another action for the same person is a different request.
    other = _twin_of(req, state=RS.SUCCEEDED)
    ActionRequest.objects.filter(pk=other.pk).update(kind="reset_sessions", state=RS.RUNNING)


def test_a_twin_that_slips_past_the_check_is_refused_by_the_index_with_the_same_message(
    make_request, helpdesk, monkeypatch
):
    """Two submissions at the same instant: both pass the check, the second insert hits the index."""
    check = submit._refuse_duplicate
    raced: list[ActionRequest] = []

    def check_then_lose_the_race(*, kind: str, target_okta_id: str) -> None:
        check(kind=kind, target_okta_id=target_okta_id)
        if not raced:  # the other submitter commits between our check and our insert
            raced.append(
                ActionRequest.objects.create(
                    kind=kind,
                    state=RS.PENDING_APPROVAL,
                    target_okta_id=target_okta_id,
                    target_login="pat@example.com",
                    reason="twin",
                    requester=helpdesk,
                    fingerprint="f" * 64,
                )
            )

    monkeypatch.setattr(submit, "_refuse_duplicate", check_then_lose_the_race)
    with pytest.raises(InvalidRequest) as refused:
        make_request("offboard", reason="at the same instant")
    assert refused.value.message == (
        f"Request #{raced[0].pk} (offboard for this person) is already pending approval: "
        "follow it there instead of asking twice."
    )


def test_an_urgent_request_overtakes_a_scheduled_one_which_then_waits_for_it(
    make_request, approve, approver, queue, fake_registry
):
    later = timezone.now() + timedelta(hours=2)
    scheduled = approve(make_request("offboard", scheduled_for=later), approver)
    assert scheduled.state == RS.SCHEDULED
    urgent = make_request("offboard", reason="Incident: now")
    assert urgent.state == RS.PENDING_APPROVAL
    with time_machine.travel(later + timedelta(seconds=1)):
        assert queue.sweep().started == 1
        queue.run_starts()
        scheduled.refresh_from_db()
        assert scheduled.state == RS.SCHEDULED
        assert scheduled.state_note == (
            f"Waits for request #{urgent.pk} for the same person to end, then starts."
        )
        approve(urgent, approver)
        queue.run_starts()
        queue.drain()
        urgent.refresh_from_db()
        assert urgent.state == RS.SUCCEEDED
        queue.sweep()
        queue.drain()
    scheduled.refresh_from_db()
    assert scheduled.state == RS.SUCCEEDED and scheduled.state_note == ""


def test_a_scheduled_request_racing_a_twin_into_running_waits(
    make_request, approve, approver, queue, monkeypatch
):
    """The twin appears between the check and the move to running: the index refuses the move."""
    from offboarding.runner import start

    later = timezone.now() + timedelta(hours=2)
    scheduled = approve(make_request("offboard", scheduled_for=later), approver)
    check = start._waits_for_twin
    calls: list[int] = []

    def check_then_lose_the_race(req, now):
        waits = check(req, now)
        calls.append(1)
        if len(calls) == 2:  # inside the row lock, after the check: a twin commits
            _twin_of(req, state=RS.PENDING_APPROVAL)
        return waits

    monkeypatch.setattr(start, "_waits_for_twin", check_then_lose_the_race)
    with time_machine.travel(later + timedelta(seconds=1)):
        assert start.action_request_start(action_request_id=scheduled.pk) is False
    scheduled.refresh_from_db()
    assert scheduled.state == RS.SCHEDULED and len(calls) == 2
    assert not StepRun.objects.filter(action_request=scheduled).exclude(status="waiting").exists()


def test_a_retry_that_would_open_a_twin_is_refused_naming_it(
    approved, queue, fake_registry, helpdesk
):
    fake_registry.fail("google", "suspend", permanent())
    first = run(queue, approved("offboard", systems=["okta", "google"]))
    assert first.state == RS.PARTIALLY_FAILED
    twin = approved("offboard", systems=["okta", "google"], reason="Again", confirm_repeat=True)
    with pytest.raises(InvalidTransition, match=rf"Request #{twin.pk} \(offboard .*\) is running"):
        svc.action_request_retry_system(action_request_id=first.pk, actor=helpdesk, system="google")
    first.refresh_from_db()
    assert first.state == RS.PARTIALLY_FAILED
    assert StepRun.objects.get(action_request=first, key="google.suspend").status == "failed"
    run(queue, twin)
    with queue.capture(execute=True):
        svc.action_request_retry_system(action_request_id=first.pk, actor=helpdesk, system="google")
    assert run(queue, first).state == RS.SUCCEEDED
