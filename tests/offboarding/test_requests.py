"""Request lifecycle at the service level: submit, change, approve (four-eyes), reject, cancel, expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from connections.types import ConnectorError
from offboarding import services as svc
from offboarding.exceptions import (
    InvalidPlaybook,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    OutOfScope,
    ProtectedTarget,
    StaleApproval,
    TargetLookupFailed,
)
from offboarding.models import ActionRequest, Approval, AuditEvent, StepRun

pytestmark = pytest.mark.django_db
RS = ActionRequest.State


# --- submit ---------------------------------------------------------------------------------------


def test_submit_snapshots_the_target_and_waits_for_approval(make_request, helpdesk, delegation):
    req = make_request("offboard")
    assert req.state == RS.PENDING_APPROVAL
    assert (req.target_okta_id, req.target_login, req.target_status) == (
        "00u1",
        "pat@example.com",
        "ACTIVE",
    )
    assert req.target_name == "Pat"
    assert req.requester == helpdesk and req.delegation == delegation
    assert req.approvals_needed == 1 and req.fingerprint
    assert req.options["okta_deactivate"] is False
    assert req.expires_at - req.requested_at == timedelta(hours=24)
    assert not StepRun.objects.filter(action_request=req).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.REQUEST_SUBMITTED)
    assert event.actor == helpdesk and event.target == "pat@example.com"


def test_submit_records_a_preflight_plan_that_says_what_will_be_skipped(
    make_request, fake_registry
):
    del fake_registry.accounts[("zoom", "00u1")]
    req = make_request("offboard")
    plan = {item["system"]: item for item in req.plan}
    assert plan["zoom"]["summary"] == "no Zoom account: will skip"
    assert plan["okta"]["exists"] is True
    assert "suspend in okta" in plan["okta"]["summary"].lower()


def test_reason_is_required(make_request):
    with pytest.raises(InvalidRequest, match="reason"):
        make_request("offboard", reason="   ")


def test_unknown_options_and_systems_are_refused(make_request):
    with pytest.raises(InvalidPlaybook):
        make_request("offboard", options={"format_disk": True})
    with pytest.raises(InvalidPlaybook):
        make_request("offboard", systems=["okta", "slack"])


def test_people_without_a_requesting_role_cannot_submit(make_request, auditor, outsider):
    for user in (auditor, outsider):
        with pytest.raises(NotAllowed):
            make_request("reset_sessions", requester=user)


def test_requests_outside_every_delegation_scope_are_refused(make_request, delegation):
    delegation.target_group_ids = ["00gEngineering"]
    delegation.save()
    with pytest.raises(OutOfScope, match="No delegation"):
        make_request("offboard")


def test_a_delegation_that_does_not_allow_the_action_refuses_it(make_request, delegation):
    delegation.allowed_actions = ["reset_sessions"]
    delegation.save()
    with pytest.raises(OutOfScope):
        make_request("offboard")
    assert make_request("reset_sessions").state == RS.PENDING_APPROVAL


def test_scope_by_okta_group_allows_members(make_request, delegation):
    delegation.target_group_ids = ["00gStaff"]
    delegation.save()
    assert make_request("offboard").state == RS.PENDING_APPROVAL


def test_protected_users_can_never_be_targeted(make_request, fake_registry, protected):
    fake_registry.move_into_group("00u1", "00gAdmins", "Admins")
    with pytest.raises(ProtectedTarget, match="Okta administrators"):
        make_request("reset_sessions")
    assert not ActionRequest.objects.exists()


def test_unknown_okta_user_is_refused_in_words(make_request):
    with pytest.raises(TargetLookupFailed, match="Okta has no user"):
        make_request("offboard", okta_id="00uNobody")


def test_reset_sessions_runs_without_approval_when_the_delegation_allows_it(
    make_request, delegation, queue, steps
):
    delegation.reset_sessions_without_approval = True
    delegation.save()
    req = make_request("reset_sessions")
    assert req.state == RS.RUNNING  # approved and started at once: its live check was just made
    submitted = AuditEvent.objects.get(action=AuditEvent.Action.REQUEST_SUBMITTED)
    assert submitted.details["without_approval"] is True
    assert set(steps(req)) == {
        "okta.clear_sessions",
        "google.sign_out",
        "zoom.revoke_token",
        "msgraph.revoke_sessions",
        "okta.verify",
        "google.verify",
        "zoom.verify",
        "msgraph.verify",
    }
    first = {s.pk for s in steps(req).values() if s.status == StepRun.Status.READY}
    assert {args[0] for _, args in queue.sent} == first and len(queue.sent) == 4
    assert {func for func, _ in queue.sent} == {"offboarding.tasks.run_step"}


def test_offboard_never_runs_without_approval(make_request, delegation):
    delegation.reset_sessions_without_approval = True
    delegation.save()
    assert make_request("offboard").state == RS.PENDING_APPROVAL


# --- four-eyes ------------------------------------------------------------------------------------


def test_requester_cannot_self_approve_even_as_an_approver(make_request, approve, approver):
    req = make_request("offboard", requester=approver)
    with pytest.raises(NotAllowed, match="yourself"):
        approve(req, approver)
    assert not Approval.objects.exists()


@pytest.mark.parametrize("who", ["helpdesk", "auditor", "outsider", "connection_admin"])
def test_only_approvers_may_approve(make_request, approve, request, who):
    req = make_request("offboard")
    with pytest.raises(NotAllowed):
        approve(req, request.getfixturevalue(who))


def test_an_approver_outside_the_approver_group_cannot_approve(
    make_request, approve, django_user_model
):
    from offboarding.roles import Role

    stranger = django_user_model.objects.create_user("stranger", "s@portal.test", "x" * 20)
    stranger.groups.add(Group.objects.get(name=Role.APPROVER))
    req = make_request("offboard")
    with pytest.raises(NotAllowed, match="not an approver"):
        approve(req, stranger)


def test_one_approval_is_enough_when_one_is_needed(make_request, approve, approver, queue, steps):
    req = approve(make_request("offboard"), approver)
    # Approved and, with the live check the approval just made, started in the same transaction:
    # the first step of each system is queued, the others wait for it.
    assert req.state == RS.RUNNING and req.approved_at and req.started_at == req.approved_at
    ready = {k for k, s in steps(req).items() if s.status == StepRun.Status.READY}
    assert ready == {"okta.suspend", "google.suspend", "msgraph.disable", "zoom.deactivate"}
    assert sorted(queue.step_ids()) == sorted(s.pk for k, s in steps(req).items() if k in ready)
    assert not [func for func, _ in queue.sent if func.endswith("start_request")]


def test_n_of_m_needs_n_distinct_people(
    make_request, approve, approver, other_approver, delegation, queue
):
    delegation.approvals_needed = 2
    delegation.save()
    req = make_request("offboard")
    req = approve(req, approver)
    assert req.state == RS.PENDING_APPROVAL
    with pytest.raises(NotAllowed, match="one person counts once"):
        approve(req, approver)
    assert svc.approvals_counted(req) == 1
    req = approve(req, other_approver)
    assert req.state == RS.RUNNING  # approved by the second person, and started


def test_expired_requests_cannot_be_approved(make_request, approve, approver):
    req = make_request("offboard")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        with pytest.raises(InvalidTransition, match="expired"):
            approve(req, approver)
    req.refresh_from_db()
    assert req.state == RS.EXPIRED


def test_an_approval_is_bound_to_what_the_approver_saw(make_request, approve, approver):
    req = make_request("offboard")
    with pytest.raises(StaleApproval):
        approve(req, approver, fingerprint="0" * 64)
    assert approve(req, approver, fingerprint=req.fingerprint).state == RS.RUNNING


def test_a_change_after_an_approval_voids_it(
    make_request, approve, approver, other_approver, helpdesk, delegation
):
    delegation.approvals_needed = 2
    delegation.save()
    req = make_request("offboard")
    approve(req, approver)
    svc.action_request_change(
        action_request_id=req.pk, actor=helpdesk, options={"okta_deactivate": True}
    )
    req.refresh_from_db()
    assert svc.approvals_counted(req) == 0
    assert approve(req, other_approver).state == RS.PENDING_APPROVAL
    assert approve(req, approver).state == RS.RUNNING
    changed = AuditEvent.objects.get(action=AuditEvent.Action.REQUEST_CHANGED)
    assert changed.details["approvals_voided"] == 1


def test_only_the_requester_changes_a_pending_request(make_request, approver):
    req = make_request("offboard")
    with pytest.raises(NotAllowed):
        svc.action_request_change(action_request_id=req.pk, actor=approver, systems=["okta"])


def test_approval_rechecks_protection_against_live_okta(
    make_request, approve, approver, fake_registry, protected
):
    req = make_request("offboard")
    fake_registry.move_into_group("00u1", "00gAdmins", "Admins")
    with pytest.raises(ProtectedTarget):
        approve(req, approver)
    req.refresh_from_db()
    assert req.state == RS.PENDING_APPROVAL


def test_approval_rechecks_scope(make_request, approve, approver, delegation):
    req = make_request("offboard")
    delegation.active = False
    delegation.save()
    with pytest.raises(OutOfScope):
        approve(req, approver)


def test_approval_when_okta_is_down_is_refused_with_a_reason(
    make_request, approve, approver, fake_registry
):
    req = make_request("offboard")
    fake_registry.okta_down = ConnectorError(
        "Okta: service unavailable", retryable=True, status=503
    )
    with pytest.raises(TargetLookupFailed, match="service unavailable"):
        approve(req, approver)


def test_a_second_approval_after_approval_is_refused_and_creates_no_more_steps(
    make_request, approve, approver, other_approver, steps
):
    req = approve(make_request("offboard"), approver)
    with pytest.raises(InvalidTransition):
        approve(req, other_approver)
    assert StepRun.objects.filter(action_request=req).count() == len(steps(req)) == 22


# --- reject, cancel, expire ---------------------------------------------------------------------


def test_rejection_ends_the_request(make_request, approver, other_approver, delegation, approve):
    delegation.approvals_needed = 2
    delegation.save()
    req = make_request("offboard")
    approve(req, approver)
    req = svc.action_request_reject(
        action_request_id=req.pk, approver=other_approver, comment="Wrong person"
    )
    assert req.state == RS.REJECTED and "Wrong person" in req.state_note
    with pytest.raises(InvalidTransition):
        approve(req, approver)


def test_the_requester_cannot_reject_their_own_request(make_request, approver):
    req = make_request("offboard", requester=approver)
    with pytest.raises(NotAllowed):
        svc.action_request_reject(action_request_id=req.pk, approver=approver)


@pytest.mark.parametrize("who", ["helpdesk", "approver"])
def test_requester_or_approver_may_cancel_before_running(make_request, request, who):
    req = make_request("offboard")
    req = svc.action_request_cancel(action_request_id=req.pk, actor=request.getfixturevalue(who))
    assert req.state == RS.CANCELLED


def test_others_may_not_cancel(make_request, auditor, outsider):
    req = make_request("offboard")
    for user in (auditor, outsider):
        with pytest.raises(NotAllowed):
            svc.action_request_cancel(action_request_id=req.pk, actor=user)


def test_cancel_after_approval_cancels_the_steps_not_started(approved, helpdesk, steps):
    req = approved("offboard")
    req = svc.action_request_cancel(action_request_id=req.pk, actor=helpdesk)
    assert req.state == RS.CANCELLED
    assert {s.status for s in steps(req).values()} == {StepRun.Status.CANCELLED}


def test_finished_requests_cannot_be_cancelled(make_request, helpdesk):
    req = make_request("offboard")
    svc.action_request_cancel(action_request_id=req.pk, actor=helpdesk)
    with pytest.raises(InvalidTransition):
        svc.action_request_cancel(action_request_id=req.pk, actor=helpdesk)


def test_the_sweeper_expires_stale_pending_requests(make_request, queue, mailoutbox):
    req = make_request("offboard")
    mailoutbox.clear()
    report = queue.sweep(now=timezone.now() + timedelta(hours=23))
    assert report.expired == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert queue.sweep().expired == 1
    req.refresh_from_db()
    assert req.state == RS.EXPIRED
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REQUEST_EXPIRED).count() == 1


def test_scheduled_requests_wait_for_their_time(make_request, approve, approver, queue):
    later = timezone.now() + timedelta(hours=2)
    req = approve(make_request("offboard", scheduled_for=later), approver)
    assert req.state == RS.SCHEDULED
    assert queue.sent == []
    assert queue.sweep().started == 0
    with time_machine.travel(later + timedelta(seconds=1)):
        assert queue.sweep().started == 1
        queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_a_second_open_request_for_the_same_action_and_person_is_refused(
    make_request, approver, approve, queue, fake_registry
):
    from offboarding.exceptions import InvalidRequest
    from offboarding.models import ActionRequest

    first = make_request("offboard")
    with pytest.raises(InvalidRequest, match=rf"Request #{first.pk} .* already pending approval"):
        make_request("offboard", reason="Someone else asks too")
    assert ActionRequest.objects.count() == 1
    # Another action for the same person is a different request.
    make_request("reset_sessions")
    # Once the first has ended, the same action may be asked again.
    approve(first, approver)
    queue.run_starts()
    queue.drain()
    first.refresh_from_db()
    assert first.is_final
    assert make_request("offboard", reason="Again", confirm_repeat=True).pk != first.pk
