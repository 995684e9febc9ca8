"""The minimal pages: wiring, roles, visibility (404), recent sign-in for approving and offboarding."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from offboarding.models import ActionRequest, AuditEvent

pytestmark = pytest.mark.django_db


def sign_in(client, user, *, recently=True):
    client.force_login(user)
    if recently:
        session = client.session
        session["account_authentication_methods"] = [
            {"method": "password", "at": time.time(), "reauthenticated": True}
        ]
        session["account_authentication_methods_user"] = str(user.pk)
        session.save()
    return client


def test_request_list_shows_own_requests_to_helpdesk_and_refuses_outsiders(
    client, make_request, helpdesk, outsider
):
    req = make_request("offboard")
    page = sign_in(client, helpdesk).get(reverse("offboarding:request-list"))
    assert page.status_code == 200 and req.target_login in page.content.decode()
    assert sign_in(client, outsider).get(reverse("offboarding:request-list")).status_code == 403


def test_a_request_not_visible_to_the_user_is_a_404(
    client, make_request, connection_admin, auditor
):
    req = make_request("offboard")
    url = reverse("offboarding:request-detail", kwargs={"pk": req.pk})
    assert sign_in(client, connection_admin).get(url).status_code == 404
    assert sign_in(client, auditor).get(url).status_code == 200


def test_approving_needs_a_recent_sign_in(client, make_request, approver):
    req = make_request("offboard")
    url = reverse("offboarding:request-approve", kwargs={"pk": req.pk})
    response = sign_in(client, approver, recently=False).post(url, {"fingerprint": req.fingerprint})
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    req.refresh_from_db()
    assert req.state == ActionRequest.State.PENDING_APPROVAL


def test_an_approver_approves_from_the_page(client, make_request, approver, queue):
    req = make_request("offboard")
    detail = reverse("offboarding:request-detail", kwargs={"pk": req.pk})
    sign_in(client, approver)
    assert 'data-testid="approve"' in client.get(detail).content.decode()
    assert req.target_login in client.get(reverse("offboarding:approvals")).content.decode()
    response = client.post(
        reverse("offboarding:request-approve", kwargs={"pk": req.pk}),
        {"fingerprint": req.fingerprint},
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == ActionRequest.State.RUNNING  # approved, and started at once


def test_the_requester_sees_no_approve_button_and_cannot_post_one(client, make_request, approver):
    req = make_request("offboard", requester=approver)
    sign_in(client, approver)
    assert (
        'data-testid="approve"'
        not in client.get(
            reverse("offboarding:request-detail", kwargs={"pk": req.pk})
        ).content.decode()
    )
    response = client.post(
        reverse("offboarding:request-approve", kwargs={"pk": req.pk}),
        {"fingerprint": req.fingerprint},
    )
    assert response.status_code == 403


def test_reject_and_cancel_from_the_page(client, make_request, approver, helpdesk):
    first, second = make_request("offboard"), make_request("reset_sessions")
    sign_in(client, approver).post(
        reverse("offboarding:request-reject", kwargs={"pk": first.pk}),
        {"fingerprint": first.fingerprint},
    )
    sign_in(client, helpdesk).post(reverse("offboarding:request-cancel", kwargs={"pk": second.pk}))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("rejected", "cancelled")


def test_cancelling_a_running_offboard_needs_a_recent_sign_in(
    client, make_request, approve, approver, helpdesk, queue
):
    req = approve(make_request("offboard"), approver)
    queue.run_starts()
    req.refresh_from_db()
    assert req.state == ActionRequest.State.RUNNING
    url = reverse("offboarding:request-cancel", kwargs={"pk": req.pk})
    response = sign_in(client, helpdesk, recently=False).post(url, {"comment": "Wrong person"})
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    req.refresh_from_db()
    assert req.state == ActionRequest.State.RUNNING
    assert not req.steps.filter(status="cancelled").exists()
    response = sign_in(client, helpdesk).post(url, {"comment": "Wrong person"})
    assert response.status_code == 302 and response["Location"].endswith(f"/requests/{req.pk}/")
    req.refresh_from_db()
    assert req.state_note == "Cancelled by helpdesk: Wrong person"
    assert req.steps.filter(status="cancelled").exists()


def test_cancelling_before_the_run_or_a_running_reset_needs_no_fresh_sign_in(
    client, make_request, approve, approver, helpdesk, queue
):
    pending = make_request("offboard")
    running = approve(make_request("reset_sessions"), approver)
    queue.run_starts()
    assert ActionRequest.objects.get(pk=running.pk).state == ActionRequest.State.RUNNING
    sign_in(client, helpdesk, recently=False)
    for req in (pending, running):
        client.post(reverse("offboarding:request-cancel", kwargs={"pk": req.pk}))
    pending.refresh_from_db()
    running.refresh_from_db()
    assert pending.state == "cancelled"
    assert running.state_note == "Cancelled by helpdesk."


def test_new_request_page_shows_the_preflight_plan_and_submits(
    client, helpdesk, fake_registry, delegation, queue
):
    del fake_registry.accounts[("zoom", "00u1")]
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"})
    sign_in(client, helpdesk)
    page = client.get(url + "?kind=offboard").content.decode()
    assert "no Zoom account: will skip" in page
    assert AuditEvent.objects.filter(action="user_view", target="pat@example.com").exists()
    response = client.post(
        url,
        {
            "kind": "reset_sessions",
            "systems": ["okta", "google"],
            "reason": "Phone stolen",
            "opt_reset_sessions_okta_oauth_tokens": "on",
        },
    )
    req = ActionRequest.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/requests/{req.pk}/")
    assert req.systems == ["okta", "google"] and req.options == {
        "okta_oauth_tokens": True,
        "okta_forget_devices": False,
    }


def test_offboard_submission_needs_a_recent_sign_in(client, helpdesk, fake_registry, delegation):
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"})
    response = sign_in(client, helpdesk, recently=False).post(
        url, {"kind": "offboard", "systems": ["okta"], "reason": "Leaver"}
    )
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not ActionRequest.objects.exists()


def test_audit_page_and_verify_are_for_auditors(client, auditor, helpdesk):
    assert sign_in(client, helpdesk).get(reverse("offboarding:audit")).status_code == 403
    assert sign_in(client, helpdesk).post(reverse("offboarding:audit-verify")).status_code == 403
    sign_in(client, auditor)
    assert client.get(reverse("offboarding:audit")).status_code == 200
    response = client.post(reverse("offboarding:audit-verify"), follow=True)
    assert "chain intact" in response.content.decode()
