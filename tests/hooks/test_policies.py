"""What an Okta event leads to: every default policy, scope and protection, drift, de-duplication."""

from __future__ import annotations

import pytest

from offboarding.models import ActionRequest, AfterTheFactReview, AuditEvent, EventPolicy, HookEvent
from offboarding.services.system_actor import SYSTEM_USERNAME, system_actor
from tests.hooks.conftest import envelope, log_event

pytestmark = pytest.mark.django_db

RS = ActionRequest.State
SUSPEND = "user.lifecycle.suspend"
SUSPICIOUS = "user.account.report_suspicious_activity_by_enduser"
GROUP_ADD = "group.user_membership.add"
UNSUSPEND = "user.lifecycle.unsuspend"


@pytest.fixture
def receive(deliver, queue, fake_registry):
    """Deliver events through the endpoint, then run the queued tasks as a worker would."""

    def go(*events) -> list[HookEvent]:
        assert deliver(envelope(*events)).status_code == 204
        queue.drain()
        return [HookEvent.objects.get(uuid=e["uuid"]) for e in events]

    return go


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq", "pk"))


def test_a_new_install_has_the_default_policies_active():
    rows = {
        (p.event_type, p.action, p.mode, p.active, p.okta_group_id)
        for p in EventPolicy.objects.all()
    }
    assert rows == {
        (SUSPEND, "reset_sessions", "automatic", True, ""),
        (SUSPICIOUS, "reset_sessions", "automatic", True, ""),
        (GROUP_ADD, "offboard", "approval", True, ""),
        (UNSUSPEND, "drift_alert", "approval", True, ""),
        ("user.lifecycle.reactivate", "drift_alert", "approval", True, ""),
    }


@pytest.mark.parametrize("event_type", [SUSPEND, SUSPICIOUS])
def test_suspension_or_suspicious_activity_resets_sessions_everywhere_with_no_click(
    receive, fake_registry, event_type
):
    (event,) = receive(log_event(event_type, "00u1"))
    req = ActionRequest.objects.get()
    assert (req.kind, req.target_okta_id, req.state) == ("reset_sessions", "00u1", RS.SUCCEEDED)
    assert req.origin == ActionRequest.Origin.EVENT_HOOK
    assert req.origin_detail == event.uuid
    assert req.requester.username == SYSTEM_USERNAME
    assert not req.approvals.exists()  # ran without waiting; approvers review it afterwards
    review = AfterTheFactReview.objects.get(action_request=req)  # in the approvers' queue
    assert review.decision == "" and event.uuid in review.why
    assert {c[0] for c in fake_registry.calls} == {"okta", "google", "msgraph", "zoom"}
    assert event.status == HookEvent.Status.DONE
    assert event.action_request_id == req.pk
    (audit,) = audits(AuditEvent.Action.HOOK_EVENT)
    assert audit.details["uuid"] == event.uuid


def test_added_to_the_chosen_offboarding_group_asks_for_approval(
    receive, approver, mailoutbox, django_capture_on_commit_callbacks
):
    policy = EventPolicy.objects.get(event_type=GROUP_ADD)
    policy.okta_group_id = "00gOffboarding"
    policy.save()
    receive(log_event(GROUP_ADD, "00u1", group_id="00gOffboarding"))
    req = ActionRequest.objects.get()
    assert (req.kind, req.state, req.origin) == ("offboard", RS.PENDING_APPROVAL, "event_hook")
    assert [m.to for m in mailoutbox] == [[approver.email]]


def test_added_to_another_group_does_nothing(receive):
    policy = EventPolicy.objects.get(event_type=GROUP_ADD)
    policy.okta_group_id = "00gOffboarding"
    policy.save()
    (event,) = receive(log_event(GROUP_ADD, "00u1", group_id="00gSales"))
    assert not ActionRequest.objects.exists()
    assert event.status == HookEvent.Status.IGNORED


def test_the_group_policy_matches_nothing_until_a_group_is_chosen(receive):
    (event,) = receive(log_event(GROUP_ADD, "00u1", group_id="00gAnything"))
    assert not ActionRequest.objects.exists()
    assert event.status == HookEvent.Status.IGNORED


def test_an_event_about_a_protected_person_creates_nothing_and_is_audited(
    receive, fake_registry, protected
):
    fake_registry.move_into_group("00u1", protected.okta_group_id, "Okta administrators")
    (event,) = receive(log_event(SUSPEND, "00u1"))
    assert not ActionRequest.objects.exists()
    assert fake_registry.calls == []
    assert event.status == HookEvent.Status.IGNORED
    (audit,) = audits(AuditEvent.Action.HOOK_EVENT_IGNORED)
    assert "protected" in audit.details["outcome"]


def test_the_system_delegation_scope_applies(receive, fake_registry):
    delegation = system_actor().groups.get().delegations.get()
    delegation.target_group_ids = ["00gEngineering"]
    delegation.save()
    (event,) = receive(log_event(SUSPEND, "00u1"))  # 00u1 is only in 00gStaff
    assert not ActionRequest.objects.exists()
    assert event.status == HookEvent.Status.IGNORED
    assert "No delegation" in event.outcome


def test_automatic_waits_for_approval_when_the_delegation_does_not_allow_it(receive):
    delegation = system_actor().groups.get().delegations.get()
    delegation.reset_sessions_without_approval = False
    delegation.save()
    receive(log_event(SUSPEND, "00u1"))
    assert ActionRequest.objects.get().state == RS.PENDING_APPROVAL


def test_a_switched_off_policy_does_nothing(receive):
    EventPolicy.objects.filter(event_type=SUSPEND).update(active=False)
    (event,) = receive(log_event(SUSPEND, "00u1"))
    assert not ActionRequest.objects.exists()
    assert event.status == HookEvent.Status.IGNORED


def test_unsuspended_after_the_portal_offboarded_them_alerts_the_approvers(
    receive, approved, approver, queue, mailoutbox
):
    offboard = approved("offboard", okta_id="00u1")
    queue.drain()
    offboard.refresh_from_db()
    assert offboard.state == RS.SUCCEEDED
    mailoutbox.clear()
    (event,) = receive(log_event(UNSUSPEND, "00u1"))
    assert event.status == HookEvent.Status.DONE
    (alert,) = audits(AuditEvent.Action.DRIFT_ALERT)
    assert alert.details["request"] == offboard.pk
    assert any(approver.email in m.to for m in mailoutbox)
    assert ActionRequest.objects.count() == 1  # an alert, not a new action


def test_unsuspended_without_a_portal_offboarding_is_no_drift(receive):
    (event,) = receive(log_event(UNSUSPEND, "00u1"))
    assert event.status == HookEvent.Status.IGNORED
    assert not audits(AuditEvent.Action.DRIFT_ALERT)


def test_a_second_event_while_a_reset_is_open_creates_no_second_request(
    deliver, queue, fake_registry
):
    deliver(envelope(log_event(SUSPEND, "00u1"), log_event(SUSPICIOUS, "00u1")))
    queue.sent = [t for t in queue.sent if t[0].endswith("handle_hook_event")]
    for _ in range(2):  # handle both events, but run no request yet
        func, args = queue.sent.pop(0)
        from offboarding import tasks

        with queue.capture(execute=True):
            getattr(tasks, func.rsplit(".", 1)[1])(*args)
        queue.sent = [t for t in queue.sent if t[0].endswith("handle_hook_event")]
    assert ActionRequest.objects.count() == 1
    statuses = sorted(HookEvent.objects.values_list("status", flat=True))
    assert statuses == ["done", "ignored"]


def test_handling_an_event_twice_acts_once(receive, queue):
    (event,) = receive(log_event(SUSPEND, "00u1"))
    from offboarding.services.hook_events import hook_event_handle

    assert hook_event_handle(hook_event_id=event.pk) == "already handled"
    assert ActionRequest.objects.count() == 1


def test_okta_unreachable_leaves_the_event_waiting(receive, fake_registry):
    from connections.types import ConnectorError

    fake_registry.okta_down = ConnectorError("Okta: timeout", retryable=True, code="timeout")
    (event,) = receive(log_event(SUSPEND, "00u1"))
    assert event.status == HookEvent.Status.WAITING
    assert not ActionRequest.objects.exists()


def test_okta_reporting_the_portals_own_suspension_starts_nothing(
    receive, approved, queue, fake_registry
):
    offboard = approved("offboard", okta_id="00u1")
    queue.drain()
    (event,) = receive(log_event(SUSPEND, "00u1"))  # the offboard's own Okta suspend, echoed
    assert event.status == HookEvent.Status.IGNORED
    assert f"#{offboard.pk}" in event.outcome
    assert ActionRequest.objects.count() == 1


def test_okta_reporting_the_portals_own_reinstatement_is_no_drift(receive, approved, queue):
    approved("offboard", okta_id="00u1")
    queue.drain()
    reinstate = approved("reinstate", okta_id="00u1")
    queue.drain()
    (event,) = receive(log_event(UNSUSPEND, "00u1"))
    assert event.status == HookEvent.Status.IGNORED
    assert f"#{reinstate.pk}" in event.outcome
    assert not audits(AuditEvent.Action.DRIFT_ALERT)


def test_a_deleted_system_delegation_is_not_re_created_and_events_are_ignored(receive):
    actor = system_actor()
    actor.groups.get().delegations.all().delete()
    (event,) = receive(log_event(SUSPEND, "00u1"))
    assert not ActionRequest.objects.exists()
    assert event.status == HookEvent.Status.IGNORED
    assert not actor.groups.get().delegations.exists()


def test_a_policy_for_the_persons_group_wins_over_one_for_any_group(receive, fake_registry):
    EventPolicy.objects.create(
        name="Contractors: offboard on suspension",
        event_type=SUSPEND,
        okta_group_id="00gContractors",
        action="offboard",
        mode="approval",
    )
    receive(log_event(SUSPEND, "00u1"))  # 00u1 is only in 00gStaff: the any-group policy
    assert ActionRequest.objects.get().kind == "reset_sessions"
    fake_registry.add_user("00u2", "kim@example.com", groups=(("00gContractors", "Contractors"),))
    (event,) = receive(log_event(SUSPEND, "00u2"))  # a member of the policy's group
    assert event.action_request.kind == "offboard"
    assert event.action_request.state == "pending_approval"
