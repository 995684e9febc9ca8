"""The start reuses the approval's live Okta check when it is fresh and the request unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from django.conf import settings
from django.utils import timezone

from connections.types import ConnectorError
from offboarding.models import ActionRequest, ProtectedGroup, StepRun
from offboarding.targets import live_check_reuse

RS = ActionRequest.State
OKTA_DOWN = ConnectorError("Okta: unavailable", retryable=True, status=503)


def _window() -> timedelta:
    return timedelta(seconds=settings.OFFBOARDING_CHECK_REUSE_SECONDS)


def test_the_approval_records_what_its_live_check_saw(approved):
    req = approved("offboard")
    check = req.live_check
    assert check["fingerprint"] == req.fingerprint and check["okta_id"] == "00u1"
    assert check["groups"] == {"00gStaff": "Staff"}
    checked_at = datetime.fromisoformat(check["at"])
    assert timezone.now() - timedelta(seconds=5) < checked_at <= req.approved_at


def test_the_start_does_not_read_okta_again_right_after_the_approval(
    approved, queue, fake_registry
):
    req = approved("reset_sessions")
    fake_registry.okta_down = OKTA_DOWN  # any Okta read would now fail and leave it approved
    queue.run_starts()
    req.refresh_from_db()
    assert req.state == RS.RUNNING


def test_the_start_reads_okta_again_when_time_has_passed(approved, queue, fake_registry):
    req = approved("reset_sessions")
    fake_registry.okta_down = OKTA_DOWN
    with time_machine.travel(timezone.now() + _window() + timedelta(seconds=1)):
        queue.run_starts()
    req.refresh_from_db()
    assert req.state == RS.APPROVED  # it tried Okta, which is down: the sweeper tries again


def test_the_start_reads_okta_again_when_the_request_changed(approved, queue, fake_registry):
    req = approved("reset_sessions")
    ActionRequest.objects.filter(pk=req.pk).update(
        live_check={**req.live_check, "fingerprint": "something else"}
    )
    fake_registry.okta_down = OKTA_DOWN
    queue.run_starts()
    req.refresh_from_db()
    assert req.state == RS.APPROVED


def test_a_reused_check_still_meets_protection_added_in_the_portal_since(
    approved, queue, fake_registry, steps
):
    req = approved("offboard")
    fake_registry.okta_down = OKTA_DOWN
    ProtectedGroup.objects.create(okta_group_id="00gStaff", name="Everyone on staff")
    queue.run_starts()
    req.refresh_from_db()
    assert req.state == RS.FAILED and "Everyone on staff" in req.state_note
    assert {s.status for s in steps(req).values()} == {StepRun.Status.CANCELLED}


def test_a_check_from_the_future_or_unreadable_is_not_reused(approved):
    req = approved("reset_sessions")
    now = timezone.now()
    assert live_check_reuse(req, now=now, max_age=30) is not None
    assert live_check_reuse(req, now=now - timedelta(seconds=10), max_age=30) is None
    assert live_check_reuse(req, now=now + timedelta(seconds=31), max_age=30) is None
    req.live_check = {"at": "yesterday"}
    assert live_check_reuse(req, now=now, max_age=30) is None
    req.live_check = {}
    assert live_check_reuse(req, now=now, max_age=30) is None
