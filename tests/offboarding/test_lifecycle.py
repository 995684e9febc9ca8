"""The lifecycle table and the one helper that changes a request's state or a step's status."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from offboarding import services
from offboarding.exceptions import IllegalTransition, InvalidTransition
from offboarding.lifecycle import REQUEST_MOVES, STEP_MOVES
from offboarding.models import ActionRequest, StepRun
from tests.offboarding.pages_data import history_request

pytestmark = pytest.mark.django_db
RS = ActionRequest.State
S = StepRun.Status


@pytest.fixture
def pending(helpdesk) -> ActionRequest:
    return history_request(helpdesk, state=RS.PENDING_APPROVAL, approved_after=None)


@pytest.fixture
def step(helpdesk) -> StepRun:
    req = history_request(helpdesk, state=RS.RUNNING)
    return StepRun.objects.filter(action_request=req).first()


def test_the_tables_name_only_real_states_and_reach_every_one():
    assert set(REQUEST_MOVES) | {RS.DRAFT} == set(RS.values)
    assert set().union(*REQUEST_MOVES.values()) <= set(RS.values)
    assert set(STEP_MOVES) == set(S.values)
    assert set().union(*STEP_MOVES.values()) <= set(S.values)


def test_a_final_request_state_is_left_only_by_a_retry():
    leaving = {s for sources in REQUEST_MOVES.values() for s in sources}
    assert leaving & set(ActionRequest.FINAL_STATES) == {RS.PARTIALLY_FAILED, RS.FAILED}
    assert REQUEST_MOVES[RS.RUNNING] >= {RS.PARTIALLY_FAILED, RS.FAILED}


def test_an_illegal_request_transition_raises_before_touching_the_row(pending):
    with pytest.raises(IllegalTransition, match="cannot go from succeeded to approved"):
        ActionRequest.objects.filter(pk=pending.pk).transition(to=RS.APPROVED, fence=RS.SUCCEEDED)
    with pytest.raises(IllegalTransition, match="Unknown action request state"):
        ActionRequest.objects.filter(pk=pending.pk).transition(to="teleported")
    assert issubclass(IllegalTransition, InvalidTransition)
    pending.refresh_from_db()
    assert pending.state == RS.PENDING_APPROVAL


def test_an_illegal_step_transition_raises(step):
    # A running step's outcome is fenced by its lease: nobody cancels it from outside.
    with pytest.raises(IllegalTransition, match="cannot go from running to cancelled"):
        StepRun.objects.filter(pk=step.pk).transition(to=S.CANCELLED, fence=S.RUNNING)
    with pytest.raises(IllegalTransition):
        StepRun.objects.filter(pk=step.pk).transition(to=S.SUCCEEDED, fence=[S.RUNNING, S.WAITING])


def test_a_transition_sets_updated_at_and_the_fields_given(pending):
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        moved = ActionRequest.objects.filter(pk=pending.pk).transition(
            to=RS.REJECTED, state_note="Rejected by someone.", finished_at=later
        )
    assert moved == 1
    pending.refresh_from_db()
    assert pending.state == RS.REJECTED and pending.state_note == "Rejected by someone."
    assert pending.updated_at == later and pending.finished_at == later


def test_a_transition_is_a_conditional_update_on_the_allowed_sources(pending):
    # Somebody else decided first: zero rows, nothing changed, no exception.
    ActionRequest.objects.filter(pk=pending.pk).transition(to=RS.EXPIRED)
    assert ActionRequest.objects.filter(pk=pending.pk).transition(to=RS.APPROVED) == 0
    assert (
        ActionRequest.objects.filter(pk=pending.pk).transition(
            to=RS.CANCELLED, fence=RS.PENDING_APPROVAL
        )
        == 0
    )
    pending.refresh_from_db()
    assert pending.state == RS.EXPIRED


def test_a_lease_fence_is_kept(step):
    StepRun.objects.filter(pk=step.pk).update(status=S.RUNNING, lease_owner="w1")
    other = StepRun.objects.filter(pk=step.pk, lease_owner="w2")
    assert other.transition(to=S.SUCCEEDED, fence=S.RUNNING) == 0
    mine = StepRun.objects.filter(pk=step.pk, lease_owner="w1")
    assert mine.transition(to=S.SUCCEEDED, fence=S.RUNNING, at=timezone.now()) == 1


def test_amend_stamps_updated_at_and_refuses_a_state_change(step):
    at = timezone.now() + timedelta(minutes=5)
    assert StepRun.objects.filter(pk=step.pk).amend(at=at, enqueued_at=at) == 1
    step.refresh_from_db()
    assert step.updated_at == at and step.enqueued_at == at
    with pytest.raises(IllegalTransition):
        StepRun.objects.filter(pk=step.pk).amend(status=S.FAILED)
    with pytest.raises(IllegalTransition):
        StepRun.objects.filter(pk=step.pk).transition(to=S.READY, status=S.READY)


def test_expiring_and_rejecting_stamp_updated_at(pending, helpdesk, approver, managers):
    # Two of the services that used to forget it.
    later = timezone.now() + timedelta(days=2)
    ActionRequest.objects.filter(pk=pending.pk).update(expires_at=timezone.now())
    with time_machine.travel(later, tick=False):
        assert services.action_request_expire(action_request_id=pending.pk)
    pending.refresh_from_db()
    assert pending.state == RS.EXPIRED and pending.updated_at == later

    other = history_request(
        helpdesk, state=RS.PENDING_APPROVAL, approver_group=managers, approved_after=None
    )
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        services.action_request_reject(action_request_id=other.pk, approver=approver)
    other.refresh_from_db()
    assert other.state == RS.REJECTED and other.updated_at == later + timedelta(hours=1)
