"""Issue 16, item 1: a form held back for the password prompt is carried out after it.

allauth resumes a held POST only when its path equals the `next` URL; the new-request form posts
to a URL with a query string (`?kind=offboard`), so the offboard used to vanish after the password.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from offboarding.models import ActionRequest
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db


def _reauthenticate(client, response, password):
    """Follow the redirect to the password prompt and answer it, as the person would."""
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    prompt = response["Location"]
    assert client.get(prompt).status_code == 200
    return client.post(prompt, {"password": password})


def test_an_offboard_posted_to_a_url_with_a_query_string_is_made_after_the_password(
    client, helpdesk, fake_registry, delegation, password
):
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"}) + "?kind=offboard"
    held = sign_in(client, helpdesk, recently=False).post(
        url, {"kind": "offboard", "systems": ["okta", "zoom"], "reason": "Leaver (HR-12)"}
    )
    assert not ActionRequest.objects.exists()
    response = _reauthenticate(client, held, password)
    req = ActionRequest.objects.get()
    assert (req.kind, req.reason, req.systems) == ("offboard", "Leaver (HR-12)", ["okta", "zoom"])
    assert response.status_code == 302 and response["Location"].endswith(f"/requests/{req.pk}/")
    shown = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert f"Request #{req.pk} made." in shown


def test_a_refused_offboard_comes_back_filled_in_after_the_password(
    client, helpdesk, fake_registry, delegation, password
):
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"}) + "?kind=offboard"
    held = sign_in(client, helpdesk, recently=False).post(
        url, {"kind": "offboard", "systems": ["okta"], "reason": ""}
    )
    response = _reauthenticate(client, held, password)
    page = response.content.decode()
    assert response.status_code == 400 and not ActionRequest.objects.exists()
    assert "Say why: a reason is required." in page
    # The form posts back to the new-request page, not to the password prompt it was shown under.
    assert f'action="{url}"' in page.replace("&amp;", "&")


def test_an_approval_is_given_after_the_password(client, make_request, approver, password, queue):
    req = make_request("offboard")
    url = reverse("offboarding:request-approve", kwargs={"pk": req.pk})
    held = sign_in(client, approver, recently=False).post(url, {"fingerprint": req.fingerprint})
    assert req.approvals.count() == 0
    response = _reauthenticate(client, held, password)
    req.refresh_from_db()
    assert req.approvals.filter(approver=approver).exists()
    assert response["Location"].endswith(f"/requests/{req.pk}/")


def test_cancelling_a_running_offboard_happens_after_the_password(
    client, make_request, approve, approver, helpdesk, password, queue
):
    req = approve(make_request("offboard"), approver)
    queue.run_starts()
    url = reverse("offboarding:request-cancel", kwargs={"pk": req.pk})
    held = sign_in(client, helpdesk, recently=False).post(url, {"comment": "Wrong person"})
    _reauthenticate(client, held, password)
    req.refresh_from_db()
    assert req.state_note == "Cancelled by helpdesk: Wrong person"


def test_a_break_glass_run_posted_with_a_query_string_runs_after_the_password(
    client, responder, fake_registry, delegation, password, queue
):
    url = reverse("offboarding:break-glass", kwargs={"okta_id": "00u1"}) + "?kind=offboard"
    form = {"kind": "offboard", "systems": ["okta", "zoom"], "reason": "INC-7"}
    held = sign_in(client, responder, recently=False).post(url, form)
    assert not ActionRequest.objects.exists()
    response = _reauthenticate(client, held, password)
    req = ActionRequest.objects.get()
    assert req.origin == "break_glass" and req.reason == "INC-7"
    assert response["Location"].endswith(f"/requests/{req.pk}/")
