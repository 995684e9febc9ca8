"""The day-to-day pages: search, user view, request form, approvals and the live status page.

Wiring, roles (each of the cast), bad input, audit of searches, the live fragment's stop signal
(HTTP 286) and four-eyes on the approvals page. The fake registry stands in for the four systems.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections import registry
from connections.types import ConnectorError
from offboarding.models import ActionRequest, AuditEvent, StepRun

pytestmark = pytest.mark.django_db

SEARCH = reverse("offboarding:search")
RESULTS = reverse("offboarding:search-results")


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


def user_url(okta_id: str = "00u1") -> str:
    return reverse("offboarding:user-detail", kwargs={"okta_id": okta_id})


def live_url(req: ActionRequest) -> str:
    return reverse("offboarding:request-live", kwargs={"pk": req.pk})


def detail_url(req: ActionRequest) -> str:
    return reverse("offboarding:request-detail", kwargs={"pk": req.pk})


# --- search ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("helpdesk", 200),
        ("approver", 200),
        ("auditor", 403),
        ("connection_admin", 403),
        ("outsider", 403),
    ],
)
def test_search_is_for_helpdesk_and_approvers(client, fake_registry, request, who, status):
    sign_in(client, request.getfixturevalue(who))
    assert client.get(SEARCH).status_code == status
    assert client.get(RESULTS, {"q": "pat"}).status_code == status


def test_search_page_has_a_labelled_type_ahead_box_wired_to_the_fragment(client, helpdesk):
    page = sign_in(client, helpdesk).get(SEARCH).content.decode()
    assert '<label for="id_q">' in page and '<label for="id_expression">' in page
    assert f'hx-get="{RESULTS}"' in page and "delay:300ms" in page
    assert "<title>Search users · Offboarding portal</title>" in page


def test_type_ahead_lists_matches_with_badges_and_links_and_audits_the_query_only(
    client, helpdesk, fake_registry
):
    fake_registry.add_user("00u2", "patricia.pike@example.com")
    fragment = sign_in(client, helpdesk).get(RESULTS, {"q": "pat"}).content.decode()
    assert "<html" not in fragment  # a fragment, not a page
    assert user_url("00u1") in fragment and user_url("00u2") in fragment
    assert 'class="badge badge-ok" data-status="active"' in fragment
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_SEARCH)
    assert event.actor == helpdesk
    assert event.details == {"query": "pat", "expression": "", "failed": False}


def test_without_javascript_the_search_page_shows_the_results_itself(
    client, helpdesk, fake_registry
):
    page = sign_in(client, helpdesk).get(SEARCH, {"q": "pat"}).content.decode()
    assert user_url("00u1") in page and "<html" in page


def test_one_letter_does_not_search_and_records_nothing(client, helpdesk, fake_registry):
    fragment = sign_in(client, helpdesk).get(RESULTS, {"q": "p"}).content.decode()
    assert "Type at least 2 letters" in fragment
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.USER_SEARCH).exists()


def test_nobody_matching_says_so(client, helpdesk, fake_registry):
    fragment = sign_in(client, helpdesk).get(RESULTS, {"q": "zzz"}).content.decode()
    assert "No one matches “zzz”" in fragment


def test_a_bad_expression_comes_back_as_words_not_a_500(
    client, helpdesk, fake_registry, monkeypatch
):
    def refuse(**kwargs):
        raise ConnectorError(
            "Okta: Invalid search criteria. (E0000031)", system="okta", status=400, code="E0000031"
        )

    monkeypatch.setattr(registry, "okta_search_users", refuse)
    response = sign_in(client, helpdesk).get(RESULTS, {"expression": "profile.department eq"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Okta did not accept the search expression" in body and "E0000031" in body
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_SEARCH)
    assert event.details["expression"] == "profile.department eq" and event.details["failed"]


def test_okta_unreachable_is_said_in_words(client, helpdesk, fake_registry, monkeypatch):
    def down(**kwargs):
        raise ConnectorError("Okta: connection refused", system="okta", retryable=True)

    monkeypatch.setattr(registry, "okta_search_users", down)
    body = sign_in(client, helpdesk).get(RESULTS, {"q": "pat"}).content.decode()
    assert "Okta could not be reached" in body and "connection refused" in body


def test_expression_results_page_on_with_okta_cursor(client, helpdesk, fake_registry, monkeypatch):
    seen = []

    def search(*, query="", expression="", after=None, limit=20):
        seen.append((query, expression, after))
        return [fake_registry.users["00u1"]], "cursor-2"

    monkeypatch.setattr(registry, "okta_search_users", search)
    sign_in(client, helpdesk)
    expression = 'profile.department eq "Engineering"'
    body = client.get(RESULTS, {"expression": expression}).content.decode()
    assert "after=cursor-2" in body and 'data-testid="search-next"' in body
    client.get(SEARCH, {"expression": expression, "after": "cursor-2"})
    assert seen == [("", expression, None), ("", expression, "cursor-2")]


# --- user view ------------------------------------------------------------------------------------


def test_user_view_shows_profile_groups_preflight_and_the_allowed_buttons(
    client, helpdesk, fake_registry, delegation
):
    del fake_registry.accounts[("zoom", "00u1")]
    response = sign_in(client, helpdesk).get(user_url())
    body = response.content.decode().replace("<wbr>", "")  # emails may wrap after @ and dots
    assert response.status_code == 200
    assert "pat@example.com" in body and "Staff" in body
    assert "no Zoom account: will skip" in body
    assert 'data-testid="action-reset_sessions"' in body and 'data-testid="action-offboard"' in body
    view = AuditEvent.objects.get(action=AuditEvent.Action.USER_VIEW)
    assert (view.actor, view.target, view.object_id) == (helpdesk, "pat@example.com", "00u1")


def test_user_view_without_a_delegation_shows_no_buttons_and_says_why(
    client, helpdesk, fake_registry
):
    body = sign_in(client, helpdesk).get(user_url()).content.decode()
    assert 'data-testid="action-' not in body
    assert "No delegation lets your team request" in body


def test_a_protected_user_says_why_and_offers_nothing(
    client, helpdesk, fake_registry, delegation, protected
):
    fake_registry.move_into_group("00u1", "00gAdmins", "Okta administrators")
    body = sign_in(client, helpdesk).get(user_url()).content.decode()
    assert 'data-testid="protected"' in body and "protected group" in body
    assert 'data-testid="action-' not in body


def test_user_view_is_refused_to_other_roles_and_unknown_people_are_a_404(
    client, fake_registry, auditor, outsider, helpdesk
):
    assert sign_in(client, auditor).get(user_url()).status_code == 403
    assert sign_in(client, outsider).get(user_url()).status_code == 403
    response = sign_in(client, helpdesk).get(user_url("00uNobody"))
    assert response.status_code == 404 and "Okta has no user" in response.content.decode()


# --- request form ---------------------------------------------------------------------------------


def new_url(okta_id: str = "00u1") -> str:
    return reverse("offboarding:request-new", kwargs={"okta_id": okta_id})


def test_request_form_labels_every_input_and_shows_the_time_zone_and_plan(
    client, helpdesk, fake_registry, delegation
):
    body = sign_in(client, helpdesk).get(new_url() + "?kind=offboard").content.decode()
    for name in ("reason", "ticket", "scheduled_for"):
        assert f'<label for="id_{name}">' in body
    assert 'type="datetime-local"' in body and "time zone: UTC" in body
    assert 'data-testid="plan-zoom"' in body
    assert body.count('name="systems"') == 4 and body.count("checked") >= 4


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"systems": ["okta"], "reason": "   "}, "Say why: a reason is required."),
        ({"reason": "Phone stolen"}, "Choose at least one system."),
        (
            {"systems": ["okta"], "reason": "Stolen", "scheduled_for": "2001-01-01T09:00"},
            "Choose a time in the future",
        ),
        ({"systems": ["okta"], "reason": "Stolen", "scheduled_for": "soon"}, "Enter a valid"),
    ],
)
def test_bad_input_shows_form_errors_and_creates_nothing(
    client, helpdesk, fake_registry, delegation, data, error
):
    response = sign_in(client, helpdesk).post(new_url(), {"kind": "reset_sessions", **data})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ActionRequest.objects.exists()


def test_a_future_run_time_is_read_in_the_shown_time_zone(
    client, helpdesk, fake_registry, delegation
):
    when = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
    response = sign_in(client, helpdesk).post(
        new_url(),
        {
            "kind": "reset_sessions",
            "systems": ["okta"],
            "reason": "Lost laptop",
            "scheduled_for": when.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    assert ActionRequest.objects.get().scheduled_for == when


def test_a_refusal_from_the_service_is_a_form_error(client, helpdesk, fake_registry):
    response = sign_in(client, helpdesk).post(
        new_url(), {"kind": "reset_sessions", "systems": ["okta"], "reason": "Stolen"}
    )
    assert response.status_code == 400
    assert "No delegation lets your team request" in response.content.decode()
    assert not ActionRequest.objects.exists()


def test_request_form_for_a_protected_user_explains_and_has_no_form(
    client, helpdesk, fake_registry, delegation, protected
):
    fake_registry.move_into_group("00u1", "00gAdmins", "Okta administrators")
    body = sign_in(client, helpdesk).get(new_url()).content.decode()
    assert 'data-testid="blocked"' in body and 'data-testid="submit-request"' not in body


def test_request_form_is_refused_to_auditors(client, auditor, fake_registry):
    assert sign_in(client, auditor).get(new_url()).status_code == 403


# --- approvals ------------------------------------------------------------------------------------


def test_approvals_lists_pending_with_plan_age_and_requester_and_counts_them(
    client, make_request, approver
):
    req = make_request("offboard")
    body = sign_in(client, approver).get(reverse("offboarding:approvals")).content.decode()
    assert f'data-testid="approve-{req.pk}"' in body and f'data-testid="reject-{req.pk}"' in body
    assert "1 waiting for you" in body and "Requested by</dt><dd>Hana<" in body
    assert 'data-testid="plan-okta"' in body and "Left the company" in body


def test_approvals_page_lists_own_requests_and_explains_why_they_cannot_be_approved(
    client, make_request, approver
):
    req = make_request("offboard", requester=approver)
    body = sign_in(client, approver).get(reverse("offboarding:approvals")).content.decode()
    assert f'data-testid="approval-{req.pk}"' in body
    assert f'data-testid="approve-{req.pk}"' not in body
    assert "You asked for this; another approver must decide." in body
    assert "0 waiting for you" in body
    detail = client.get(detail_url(req)).content.decode()
    assert 'data-testid="own-request"' in detail and 'data-testid="approve"' not in detail


@pytest.mark.parametrize("who", ["helpdesk", "auditor", "connection_admin", "outsider"])
def test_approvals_page_is_for_approvers_only(client, request, who):
    sign_in(client, request.getfixturevalue(who))
    assert client.get(reverse("offboarding:approvals")).status_code == 403


def test_a_forged_approve_post_by_the_requester_is_refused(client, make_request, approver):
    req = make_request("offboard", requester=approver)
    response = sign_in(client, approver).post(
        reverse("offboarding:request-approve", kwargs={"pk": req.pk}),
        {"fingerprint": req.fingerprint},
    )
    assert response.status_code == 403
    req.refresh_from_db()
    assert req.state == ActionRequest.State.PENDING_APPROVAL and not req.approvals.exists()


def test_approving_from_the_approvals_page_leads_to_the_status_page(
    client, make_request, approver, queue
):
    req = make_request("reset_sessions")
    response = sign_in(client, approver).post(
        reverse("offboarding:request-approve", kwargs={"pk": req.pk}),
        {"fingerprint": req.fingerprint, "comment": "ok"},
    )
    assert response.status_code == 302 and response["Location"] == detail_url(req)
    req.refresh_from_db()
    assert req.state == ActionRequest.State.RUNNING  # approved, and started at once


# --- request status and its live fragment -------------------------------------------------------


def test_status_page_polls_while_the_request_is_open(client, make_request, helpdesk):
    req = make_request("reset_sessions")
    body = sign_in(client, helpdesk).get(detail_url(req)).content.decode()
    assert f'hx-get="{live_url(req)}"' in body and 'hx-trigger="every 2s"' in body
    fragment = client.get(live_url(req))
    assert fragment.status_code == 200 and 'hx-trigger="every 2s"' in fragment.content.decode()


def test_live_fragment_answers_286_and_stops_polling_once_finished(
    client, approved, queue, helpdesk
):
    req = approved("reset_sessions")
    queue.drain()
    req.refresh_from_db()
    assert req.state == ActionRequest.State.SUCCEEDED
    sign_in(client, helpdesk)
    fragment = client.get(live_url(req))
    body = fragment.content.decode()
    assert fragment.status_code == 286
    assert "hx-trigger" not in body and 'data-state="succeeded"' in body
    for system in ("okta", "google", "msgraph", "zoom"):
        assert f'data-testid="system-{system}" data-status="succeeded"' in body
    assert 'hx-trigger="every 2s"' not in client.get(detail_url(req)).content.decode()


def test_a_failed_step_says_why_and_offers_retry_for_that_system_only(
    client, approved, queue, helpdesk, fake_registry, steps, django_capture_on_commit_callbacks
):
    fake_registry.fail(
        "zoom", "deactivate", ConnectorError("Zoom: user is the account owner", status=400)
    )
    req = approved("offboard")
    queue.drain()
    req.refresh_from_db()
    assert req.state == ActionRequest.State.PARTIALLY_FAILED
    body = sign_in(client, helpdesk).get(detail_url(req)).content.decode()
    assert 'data-testid="system-zoom" data-status="failed"' in body
    assert "Zoom: user is the account owner" in body
    assert 'data-testid="retry-zoom"' in body and 'data-testid="retry-okta"' not in body
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("offboarding:request-retry", kwargs={"pk": req.pk}), {"system": "zoom"}
        )
    assert response.status_code == 302
    queue.drain()
    req.refresh_from_db()
    assert req.state == ActionRequest.State.SUCCEEDED
    assert steps(req)["zoom.deactivate"].status == StepRun.Status.SUCCEEDED


def test_retry_and_cancel_are_refused_to_those_not_allowed(
    client, make_request, approved, queue, auditor, outsider
):
    pending = make_request("offboard")
    cancel = reverse("offboarding:request-cancel", kwargs={"pk": pending.pk})
    assert sign_in(client, outsider).post(cancel).status_code == 404
    assert sign_in(client, auditor).post(cancel).status_code == 403
    assert 'data-testid="cancel"' not in client.get(detail_url(pending)).content.decode()
    retry = reverse("offboarding:request-retry", kwargs={"pk": pending.pk})
    assert client.post(retry, {"system": "zoom"}).status_code == 403
    pending.refresh_from_db()
    assert pending.state == ActionRequest.State.PENDING_APPROVAL


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("helpdesk", 200),  # the requester
        ("approver", 200),  # in the approver group
        ("other_approver", 200),
        ("auditor", 200),
        ("connection_admin", 404),
        ("outsider", 404),
    ],
)
def test_status_page_and_fragment_visibility_per_role(client, make_request, request, who, status):
    req = make_request("offboard")
    sign_in(client, request.getfixturevalue(who))
    assert client.get(detail_url(req)).status_code == status
    assert client.get(live_url(req)).status_code == status


def test_cancel_from_the_status_page(client, make_request, helpdesk):
    req = make_request("offboard")
    body = sign_in(client, helpdesk).get(detail_url(req)).content.decode()
    assert 'data-testid="cancel"' in body
    client.post(reverse("offboarding:request-cancel", kwargs={"pk": req.pk}))
    req.refresh_from_db()
    assert req.state == ActionRequest.State.CANCELLED
    assert client.get(live_url(req)).status_code == 286


def test_the_live_region_carries_the_approval_count(
    client, make_request, approver, helpdesk, approve
):
    req = make_request("reset_sessions")
    client.force_login(helpdesk)
    live = reverse("offboarding:request-live", kwargs={"pk": req.pk})
    assert "Approvals: 0 of 1 needed" in client.get(live).content.decode()
    approve(req, approver)
    assert "Approvals: 1 of 1 needed" in client.get(live).content.decode()
