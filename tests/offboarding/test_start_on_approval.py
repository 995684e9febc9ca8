"""An approval with a fresh live Okta check starts the request in its own transaction; a request
approved otherwise is started by its task, which reads Okta again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from connections.types import ConnectorError
from offboarding.exceptions import NotAllowed
from offboarding.models import ActionRequest, AuditEvent, ProtectedGroup, StepRun

RS = ActionRequest.State
S = StepRun.Status
OKTA_DOWN = ConnectorError("Okta: unavailable", retryable=True, status=503)


def test_the_approval_records_what_its_live_check_saw(approved):
    req = approved("offboard")
    check = req.live_check
    assert check["fingerprint"] == req.fingerprint and check["okta_id"] == "00u1"
    assert check["groups"] == {"00gStaff": "Staff"}
    checked_at = datetime.fromisoformat(check["at"])
    assert timezone.now() - timedelta(seconds=5) < checked_at <= req.approved_at


def test_the_approval_starts_the_request_without_reading_okta_again(
    approved, queue, fake_registry, steps
):
    req = approved("reset_sessions")
    fake_registry.okta_down = OKTA_DOWN  # no Okta read happens after the approval's own
    assert req.state == RS.RUNNING and req.started_at == req.approved_at
    actions = list(
        AuditEvent.objects.filter(object_id=str(req.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == [AuditEvent.Action.REQUEST_APPROVED, AuditEvent.Action.REQUEST_STARTED]
    first = [s.pk for s in steps(req).values() if s.status == S.READY]
    assert len(first) == 4 and sorted(queue.step_ids()) == sorted(first)
    assert not [f for f, _ in queue.sent if f.endswith("start_request")]
    queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


def test_with_the_window_off_the_start_task_reads_okta_again(
    approved_to_start, queue, fake_registry
):
    req = approved_to_start("reset_sessions")
    assert req.state == RS.APPROVED
    assert [f for f, _ in queue.sent] == ["offboarding.tasks.start_request"]
    fake_registry.okta_down = OKTA_DOWN
    queue.run_starts()
    req.refresh_from_db()
    assert req.state == RS.APPROVED  # it tried Okta, which is down: the sweeper tries again


def test_protection_added_before_the_approval_refuses_it_and_starts_nothing(
    make_request, approve, approver, queue, steps
):
    req = make_request("offboard")
    ProtectedGroup.objects.create(okta_group_id="00gStaff", name="Everyone on staff")
    with pytest.raises(NotAllowed, match="Everyone on staff"):
        approve(req, approver)
    req.refresh_from_db()
    assert req.state == RS.PENDING_APPROVAL and not req.approvals.exists()
    assert steps(req) == {} and queue.sent == []


def test_a_request_run_without_approval_is_checked_again_as_it_starts(
    make_request, delegation, queue, steps, monkeypatch
):
    """A delegation that runs reset sessions without approval: the submit checked scope before
    reading the other systems for its plan, so the start in its transaction checks again."""
    delegation.reset_sessions_without_approval = True
    delegation.save()
    from offboarding.services import submit

    real = submit.preflight_plan

    def plan_then_protect(*args, **kwargs):
        ProtectedGroup.objects.create(okta_group_id="00gStaff", name="Everyone on staff")
        return real(*args, **kwargs)

    monkeypatch.setattr(submit, "preflight_plan", plan_then_protect)
    req = make_request("reset_sessions")
    req.refresh_from_db()
    assert req.state == RS.FAILED and "Everyone on staff" in req.state_note
    assert {s.status for s in steps(req).values()} == {S.CANCELLED}
    assert queue.step_ids() == []
