"""Issue 16, items 5 and 6: the status page does not contradict itself, and while a request waits
the requester sees who can approve, when it expires, and may remind them (rate limited, audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from offboarding.models import AuditEvent
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db


def _live(client, req) -> str:
    return client.get(reverse("offboarding:request-live", kwargs={"pk": req.pk})).content.decode()


def test_a_waiting_request_says_who_can_approve_and_when_it_expires(
    client, make_request, helpdesk, approver, other_approver
):
    req = make_request("offboard")
    page = (
        sign_in(client, helpdesk)
        .get(reverse("offboarding:request-detail", kwargs={"pk": req.pk}))
        .content.decode()
    )
    assert 'data-testid="waiting"' in page
    for person in (approver, other_approver):
        assert (person.get_full_name() or person.get_username()) in page
    assert 'data-testid="waiting-expires"' in page and 'data-testid="remind"' in page


def test_once_approved_the_live_part_drops_the_wait_and_the_expiry(
    client, make_request, approve, approver, helpdesk, queue
):
    req = approve(make_request("offboard"), approver)
    live = _live(sign_in(client, helpdesk), req)
    assert 'data-testid="waiting"' not in live and "Expires" not in live
    detail = client.get(reverse("offboarding:request-detail", kwargs={"pk": req.pk}))
    assert "Expires" not in detail.content.decode()


def test_the_requester_reminds_the_approvers_once_per_quarter_hour(
    client, make_request, helpdesk, approver, mailoutbox, django_capture_on_commit_callbacks
):
    req = make_request("offboard")
    url = reverse("offboarding:request-remind", kwargs={"pk": req.pk})
    sign_in(client, helpdesk)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert any("reminded by email" in m for m in shown)
    assert approver.email in {a for m in mailoutbox for a in m.to}
    reminded = AuditEvent.objects.filter(action=AuditEvent.Action.APPROVERS_REMINDED)
    assert reminded.count() == 1 and reminded.get().object_id == str(req.pk)

    again = client.post(url, follow=True)
    assert any("again from" in str(m) for m in again.context["messages"])
    assert reminded.count() == 1
    assert 'data-testid="remind-later"' in _live(client, req)

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        client.post(url)
    assert reminded.count() == 2


def test_only_the_requester_may_remind(client, make_request, approver, auditor):
    req = make_request("offboard")
    url = reverse("offboarding:request-remind", kwargs={"pk": req.pk})
    assert sign_in(client, approver).post(url).status_code == 403
    assert sign_in(client, auditor).post(url).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.APPROVERS_REMINDED).exists()


def test_approvers_see_how_long_each_request_has_waited(client, make_request, approver):
    make_request("offboard")
    page = sign_in(client, approver).get(reverse("offboarding:approvals")).content.decode()
    assert "<dt>Waiting</dt><dd>0" in page and "minutes" in page
