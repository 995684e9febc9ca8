"""PORTAL_REQUIRE_MFA_FOR: members of the roles named there enrol an authenticator app (TOTP) before
they can act. The pages say so and send them to enrolment; the services refuse as well."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from offboarding import permissions
from offboarding import services as svc
from offboarding.exceptions import MfaRequired
from offboarding.models import ActionRequest
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db
RS = ActionRequest.State
ENROL = reverse("mfa_activate_totp")


@pytest.fixture
def mfa_for_approvers(settings):
    settings.PORTAL_REQUIRE_MFA_FOR = ("Approver", "Connection admin")


def enrol_totp(user) -> None:
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


def approve_url(req: ActionRequest) -> str:
    return reverse("offboarding:request-approve", kwargs={"pk": req.pk})


def detail_url(req: ActionRequest) -> str:
    return reverse("offboarding:request-detail", kwargs={"pk": req.pk})


def test_an_approver_without_totp_is_sent_to_enrolment_and_cannot_approve(
    client, make_request, approver, mfa_for_approvers
):
    req = make_request("offboard")
    sign_in(client, approver)
    page = client.get(detail_url(req)).content.decode()
    assert 'data-testid="mfa-required"' in page
    assert "Your role (Approver) must use two-factor authentication" in page
    assert f'href="{ENROL}"' in page
    response = client.post(approve_url(req), {"fingerprint": req.fingerprint}, follow=False)
    assert response.status_code == 302 and response["Location"] == ENROL
    req.refresh_from_db()
    assert req.state == RS.PENDING_APPROVAL and not req.approvals.exists()
    enrolment = client.get(ENROL)
    assert enrolment.status_code == 200  # the way out stays open
    assert "set up an authenticator app under Security" in enrolment.content.decode()
    with pytest.raises(MfaRequired, match=r"Your role \(Approver\) must use two-factor"):
        svc.action_request_approve(action_request_id=req.pk, approver=approver)
    with pytest.raises(MfaRequired):
        svc.action_request_reject(action_request_id=req.pk, approver=approver)
    assert req.approvals.count() == 0


def test_with_totp_enrolled_the_approver_approves(
    client, make_request, approver, mfa_for_approvers, queue
):
    req = make_request("offboard")
    enrol_totp(approver)
    sign_in(client, approver)
    assert 'data-testid="mfa-required"' not in client.get(detail_url(req)).content.decode()
    response = client.post(approve_url(req), {"fingerprint": req.fingerprint})
    assert response.status_code == 302 and response["Location"] == detail_url(req)
    req.refresh_from_db()
    assert req.state == RS.RUNNING  # approved, and started at once


def test_roles_not_named_act_as_before_and_account_pages_stay_open(
    client, make_request, helpdesk, approver, mfa_for_approvers
):
    req = make_request("offboard")  # Helpdesk is not named: the submission goes through
    sign_in(client, helpdesk)
    assert 'data-testid="mfa-required"' not in client.get(detail_url(req)).content.decode()
    sign_in(client, approver)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302 and response["Location"] != ENROL
    assert client.get("/").status_code == 302  # signed out


def test_an_approver_without_totp_cannot_request_cancel_or_retry_either(
    make_request, approver, helpdesk, mfa_for_approvers
):
    with pytest.raises(MfaRequired):
        make_request("reset_sessions", requester=approver)
    req = make_request("offboard")
    with pytest.raises(MfaRequired):
        svc.action_request_cancel(action_request_id=req.pk, actor=approver)
    assert svc.action_request_cancel(action_request_id=req.pk, actor=helpdesk).state == "cancelled"


def test_a_connection_admin_without_totp_cannot_change_connections_or_policies(
    client, connection_admin, mfa_for_approvers
):
    sign_in(client, connection_admin)
    assert client.get(reverse("connections:list")).status_code == 200
    response = client.post(reverse("connections:edit", args=["okta"]), {"label": "x"})
    assert response.status_code == 302 and response["Location"] == ENROL
    with pytest.raises(MfaRequired, match=r"Connection admin"):
        svc.protected_group_add(actor=connection_admin, okta_group_id="00gX")
    enrol_totp(connection_admin)
    connection_admin.__dict__.pop("_portal_has_totp", None)
    assert svc.protected_group_add(actor=connection_admin, okta_group_id="00gX").pk


def test_without_the_setting_nothing_changes(client, make_request, approver, queue, settings):
    assert settings.PORTAL_REQUIRE_MFA_FOR == ()
    assert permissions.mfa_satisfied(approver)
    req = make_request("offboard")
    sign_in(client, approver)
    assert 'data-testid="mfa-required"' not in client.get(detail_url(req)).content.decode()
    client.post(approve_url(req), {"fingerprint": req.fingerprint})
    req.refresh_from_db()
    assert req.state == RS.RUNNING  # approved, and started at once
