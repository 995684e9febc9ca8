"""Break-glass (issue 14): a Responder runs reset sessions, or an offboard's lock steps, at once,
and the approvers review it afterwards. Service-level: who may, what runs, what is refused, and the
review's four-eyes and window."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from offboarding import selectors_review
from offboarding import services as svc
from offboarding.exceptions import (
    InvalidPlaybook,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    OutOfScope,
    ProtectedTarget,
)
from offboarding.models import ActionRequest, AfterTheFactReview, AuditEvent, StepRun
from offboarding.roles import Role
from offboarding.services import SignInTooOld
from tests.conftest import _make_user
from tests.offboarding.conftest import enrol_totp

pytestmark = pytest.mark.django_db
RS = ActionRequest.State
ALL = ["okta", "google", "msgraph", "zoom"]
# Each system's read-back follows its steps (issue 13): a break-glass run proves its lockout too.
VERIFY_STEPS = {"okta.verify", "google.verify", "msgraph.verify", "zoom.verify"}
LOCK_STEPS = {"okta.suspend", "google.suspend", "msgraph.disable", "zoom.deactivate"} | VERIFY_STEPS


def test_reset_sessions_runs_at_once_audited_and_waits_for_review(
    run, queue, steps, responder, settings, mailoutbox
):
    settings.PORTAL_REVIEW_WINDOW_HOURS = 4
    before = timezone.now()
    req = run("reset_sessions")
    assert req.state == RS.RUNNING and req.origin == ActionRequest.Origin.BREAK_GLASS
    assert not req.approvals.exists()
    assert (
        set(steps(req))
        == {
            "okta.clear_sessions",
            "google.sign_out",
            "zoom.revoke_token",
            "msgraph.revoke_sessions",
        }
        | VERIFY_STEPS
    )
    # Started at once, in the same transaction: each system's revoke step is queued.
    first = {s.pk for s in steps(req).values() if s.status == StepRun.Status.READY}
    assert len(first) == 4 and set(queue.step_ids()) == first and len(queue.sent) == 4
    review = AfterTheFactReview.objects.get(action_request=req)
    assert review.is_pending and "responder" in review.why
    assert before + timedelta(hours=4) <= review.due_at <= timezone.now() + timedelta(hours=4)
    event = AuditEvent.objects.get(action=AuditEvent.Action.BREAK_GLASS)
    assert event.actor == responder and event.object_id == str(req.pk)
    assert event.details["reason"] == "Account takeover in progress (INC-9)"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REQUEST_SUBMITTED).exists()
    review_mails = [m for m in mailoutbox if "Review needed" in m.subject]
    assert len(review_mails) == 1
    assert sorted(review_mails[0].to) == ["approver2@portal.test", "approver@portal.test"]
    # Nobody approved it: the responder is not told it was "approved" (they hear when it ends).
    assert not [m for m in mailoutbox if responder.email in m.to], [m.subject for m in mailoutbox]


def test_offboard_runs_only_the_lock_steps_and_never_deactivates(run, queue, steps, fake_registry):
    req = run("offboard")
    assert set(steps(req)) == LOCK_STEPS
    assert all(not v for v in req.options.values())
    queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED
    assert {(c[0], c[1]) for c in fake_registry.effectful_calls()} == {
        tuple(k.split(".")) for k in LOCK_STEPS - VERIFY_STEPS
    }
    assert fake_registry.accounts[("okta", "00u1")]["state"] == "SUSPENDED"


@pytest.mark.parametrize(
    "options", [{"okta_deactivate": True}, {"okta_revoke_grants": True}, {"okta_clear_sessions": 1}]
)
def test_break_glass_refuses_any_offboard_step_beyond_the_locks(run, options):
    with pytest.raises(InvalidPlaybook, match="only an offboard's lock steps"):
        run("offboard", options=options)
    assert not ActionRequest.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.BREAK_GLASS).exists()


def test_break_glass_cannot_reinstate(run):
    with pytest.raises(InvalidPlaybook, match="cannot run reinstate"):
        run("reinstate")
    assert not ActionRequest.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(run, reason):
    with pytest.raises(InvalidRequest, match="needs a reason"):
        run(reason=reason)
    assert not ActionRequest.objects.exists()


@pytest.mark.parametrize("minutes_ago", [None, 6, 60, -2])
def test_a_sign_in_within_the_last_five_minutes_is_required(run, minutes_ago):
    at = None if minutes_ago is None else timezone.now() - timedelta(minutes=minutes_ago)
    with pytest.raises(SignInTooOld, match="within the last 5 minutes"):
        run(authenticated_at=at)
    assert not ActionRequest.objects.exists()


def test_a_sign_in_four_minutes_ago_is_recent_enough(run):
    assert run(authenticated_at=timezone.now() - timedelta(minutes=4)).state == RS.RUNNING


def test_totp_must_be_enrolled(run, responder):
    Authenticator.objects.filter(user=responder).delete()
    with pytest.raises(NotAllowed, match="two-factor authentication"):
        run()
    assert not ActionRequest.objects.exists()


def test_only_responders_may_break_glass(run, helpdesk):
    enrol_totp(helpdesk)
    with pytest.raises(NotAllowed, match="Only Responders"):
        run(responder=helpdesk)
    assert not ActionRequest.objects.exists()


def test_the_responder_acts_only_within_their_teams_delegation(run, responder, team, delegation):
    delegation.allowed_actions = ["reset_sessions"]
    delegation.save()
    with pytest.raises(OutOfScope):
        run("offboard")
    assert run("reset_sessions").state == RS.RUNNING
    responder.groups.remove(team)
    with pytest.raises(OutOfScope):
        run("reset_sessions", target_okta_id="00u1")


def test_protected_users_are_refused(run, fake_registry, protected):
    fake_registry.move_into_group("00u1", "00gAdmins", "Admins")
    with pytest.raises(ProtectedTarget):
        run("offboard")
    assert not ActionRequest.objects.exists()


# --- the review afterwards -------------------------------------------------------------------------


def review(req, user, decision="accepted", comment=""):
    return svc.review_record(
        action_request_id=req.pk, reviewer=user, decision=decision, comment=comment
    )


def test_the_responder_never_reviews_their_own_run_even_as_an_approver(
    run, responder, managers, approver
):
    responder.groups.add(Group.objects.get_or_create(name=Role.APPROVER)[0], managers)
    req = run()
    with pytest.raises(NotAllowed, match="four-eyes"):
        review(req, responder)
    assert AfterTheFactReview.objects.get(action_request=req).is_pending
    assert review(req, approver).decision == "accepted"


def test_only_an_approver_of_the_requests_group_reviews(run, django_user_model, helpdesk):
    req = run()
    stranger = _make_user(django_user_model, "elsewhere", Role.APPROVER)
    for user in (stranger, helpdesk):
        with pytest.raises(NotAllowed):
            review(req, user)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.BREAK_GLASS_REVIEWED).exists()


def test_flagging_needs_a_comment_and_is_audited(run, approver, other_approver):
    req = run()
    with pytest.raises(InvalidRequest, match="needs a comment"):
        review(req, approver, "flagged", "  ")
    done = review(req, approver, "flagged", "No incident ticket matches this")
    assert done.decision == "flagged" and done.reviewer == approver
    event = AuditEvent.objects.get(action=AuditEvent.Action.BREAK_GLASS_REVIEWED)
    assert event.actor == approver
    assert event.details["decision"] == "flagged"
    assert event.details["comment"] == "No incident ticket matches this"
    assert event.details["overdue"] is False
    with pytest.raises(InvalidTransition, match="already reviewed"):
        review(req, other_approver)


def test_a_run_unreviewed_after_the_window_shows_as_overdue(run, approver, settings):
    settings.PORTAL_REVIEW_WINDOW_HOURS = 2
    req = run()
    row = AfterTheFactReview.objects.get(action_request=req)
    assert row.status() == "pending"
    assert selectors_review.review_summary_for(approver).overdue == 0
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        row.refresh_from_db()
        assert row.status() == "overdue" and row.status_label() == "Review overdue"
        summary = selectors_review.review_summary_for(approver)
        assert (summary.waiting, summary.overdue, summary.flagged) == (1, 1, 0)
        review(req, approver)
    event = AuditEvent.objects.get(action=AuditEvent.Action.BREAK_GLASS_REVIEWED)
    assert event.details["overdue"] is True
    row.refresh_from_db()
    assert row.status() == "accepted"


def test_the_queue_is_generic_for_any_run_made_without_approval(
    make_request,
    approve,
    approver,
    other_approver,
    helpdesk,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    """What the Okta event hooks call for their automatic runs (origin event_hook)."""
    req = make_request("reset_sessions")
    ActionRequest.objects.filter(pk=req.pk).update(origin=ActionRequest.Origin.EVENT_HOOK)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = svc.request_review_required(action_request=req, why="Okta event: session hijack")
        again = svc.request_review_required(action_request=req, why="twice")
    assert first.pk == again.pk and again.why == "Okta event: session hijack"
    assert len([m for m in mailoutbox if "Review needed" in m.subject]) == 1
    waiting, _ = selectors_review.review_queue_for(approver)
    assert [r.action_request_id for r in waiting] == [req.pk]
    assert selectors_review.reviews_waiting_for(approver) == 1
    assert selectors_review.reviews_waiting_for(helpdesk) == 0  # not an approver
    review(req, other_approver)
    assert selectors_review.reviews_waiting_for(approver) == 0


def test_the_dashboard_summary_counts_only_visible_runs(run, approver, django_user_model):
    req = run()
    review(req, approver, "flagged", "Wrong person")
    assert selectors_review.review_summary_for(approver).flagged == 1
    outsider_approver = _make_user(django_user_model, "far", Role.APPROVER)
    summary = selectors_review.review_summary_for(outsider_approver)
    assert (summary.waiting, summary.flagged) == (0, 0) and not summary.stands_out
