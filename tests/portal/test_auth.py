"""Signing in and out, MFA with TOTP, login rate limits, and the anonymous wall."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _totp(secret: str, when: dt.datetime) -> str:
    return format_hotp_value(hotp_value(secret, int(when.timestamp()) // 30))


def test_sign_in_with_username_then_sign_out_by_post(client, helpdesk, password):
    response = client.post(LOGIN, {"login": "helpdesk", "password": password})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    # A GET to logout only asks; it does not sign out.
    assert client.get(reverse("account_logout")).status_code == 200
    assert client.get("/").status_code == 200
    client.post(reverse("account_logout"))
    assert client.get("/").status_code == 302


def test_sign_in_with_email(client, approver, password):
    response = client.post(LOGIN, {"login": "approver@portal.test", "password": password})
    assert response.status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, helpdesk):
    response = client.post(LOGIN, {"login": "helpdesk", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert client.get("/").status_code == 302


def test_repeated_failed_logins_are_rate_limited(client, helpdesk, password):
    for _ in range(5):
        client.post(LOGIN, {"login": "helpdesk", "password": "wrong-password-again"})
    response = client.post(LOGIN, {"login": "helpdesk", "password": password})
    assert b"Too many failed login attempts" in response.content
    assert client.get("/").status_code == 302


def test_self_sign_up_is_closed(client):
    response = client.get(reverse("account_signup"))
    assert b"Sign Up Closed" in response.content or response.status_code in (403, 404)


def test_totp_enrolment_then_sign_in_needs_the_code(client, approver, password):
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        client.post(LOGIN, {"login": "approver", "password": password})
        # Enrolling a factor needs a fresh password re-entry, even right after sign-in.
        page = client.get(reverse("mfa_activate_totp"))
        assert page.status_code == 302 and page.url.startswith(reverse("account_reauthenticate"))
        client.post(reverse("account_reauthenticate"), {"password": password})
        page = client.get(reverse("mfa_activate_totp"))
        assert page.status_code == 200
        secret = client.session["mfa.totp.secret"]
        response = client.post(reverse("mfa_activate_totp"), {"code": _totp(secret, start)})
        assert response.status_code == 302
        assert Authenticator.objects.filter(user=approver, type=Authenticator.Type.TOTP).exists()
        assert Authenticator.objects.filter(
            user=approver, type=Authenticator.Type.RECOVERY_CODES
        ).exists()
        client.post(reverse("account_logout"))

    later = start + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        response = client.post(LOGIN, {"login": "approver", "password": password})
        assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
        assert client.get("/").status_code == 302  # not signed in until the second factor
        bad = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert bad.status_code == 200 and b"Incorrect code" in bad.content
        good = client.post(reverse("mfa_authenticate"), {"code": _totp(secret, later)})
        assert good.status_code == 302
        assert client.get("/").status_code == 200


def _all_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


PUBLIC_PREFIXES = (
    "healthz",
    "accounts/login",
    "accounts/signup",
    "accounts/password/reset",
    "accounts/confirm-email",
    "accounts/3rdparty",
    "accounts/social",
    "accounts/okta",
    "accounts/2fa/authenticate",
    "accounts/reauthenticate",
    "accounts/logout",
    "accounts/inactive",
    "accounts/email/verify",
    "accounts/login/code",
    "accounts/password/set",
    "hooks/okta",  # Okta event hooks: their own header and secret, never a session (issue 14)
)


def _concrete_path(pattern: str) -> str:
    import re

    path = re.sub(r"<(?:int:)?[a-z_]+>", "1", pattern)
    path = re.sub(r"<[a-z]+:[a-z_]+>", "x", path)
    path = path.lstrip("^").rstrip("$").replace("\\Z", "")
    return "/" + path


def test_every_page_sends_an_anonymous_visitor_to_sign_in(client):
    checked = 0
    for pattern, _entry in _all_routes():
        if pattern.startswith(PUBLIC_PREFIXES) or pattern.startswith("admin/") or "(?P" in pattern:
            continue
        if pattern.startswith("api/v1/"):  # bearer tokens, not sign-in: answers 401 (tests/api)
            continue
        path = _concrete_path(pattern)
        response = client.get(path)
        assert response.status_code == 302, f"{path} answered {response.status_code}"
        assert response.url.startswith(LOGIN), f"{path} redirected to {response.url}"
        checked += 1
    assert checked >= 5


def test_admin_needs_staff_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "login" in response.url


def test_login_page_offers_no_sign_up_and_no_okta_button_when_unconfigured(client):
    html = client.get(LOGIN).content.decode()
    assert "sign up" not in html.lower()
    assert 'data-testid="sso-okta"' not in html
    assert "Forgot your password?" in html


def test_okta_button_appears_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "okta",
                    "name": "Okta",
                    "client_id": "cid",
                    "secret": "s3cret-value",
                    "settings": {"server_url": "https://acme.okta.com"},
                }
            ]
        }
    }
    html = client.get(LOGIN).content.decode()
    assert 'data-testid="sso-okta"' in html
    assert "s3cret-value" not in html


@pytest.mark.parametrize(
    "path", ["/accounts/okta/login/", "/accounts/okta/login/callback/?code=c&state=s"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_okta_sign_in_answers_404_when_not_configured(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 404


def test_password_reset_sends_an_email(client, helpdesk, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "helpdesk@portal.test"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and "helpdesk@portal.test" in mailoutbox[0].to


def _okta_login(email: str, *, verified: bool = True):
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount, SocialLogin
    from django.contrib.auth import get_user_model

    return SocialLogin(
        user=get_user_model()(email=email),
        account=SocialAccount(provider="okta", uid="00u-sub"),
        email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
    )


def test_okta_sign_in_refuses_an_email_that_two_accounts_share(rf, helpdesk, approver):
    from allauth.core.exceptions import ImmediateHttpResponse
    from allauth.socialaccount.models import SocialAccount

    from portal.adapters import PortalSocialAccountAdapter

    approver.email = helpdesk.email.upper()
    approver.save(update_fields=["email"])
    request = rf.get("/accounts/okta/login/callback/")
    request.user = AnonymousUser()
    with pytest.raises(ImmediateHttpResponse) as info:
        PortalSocialAccountAdapter(request).pre_social_login(request, _okta_login(helpdesk.email))
    assert info.value.response.status_code == 403
    assert "More than one portal account uses" in info.value.response.content.decode()
    assert not SocialAccount.objects.exists()


def test_okta_sign_in_never_links_an_inactive_account(rf, helpdesk):
    from allauth.core.exceptions import ImmediateHttpResponse

    from portal.adapters import PortalSocialAccountAdapter

    helpdesk.is_active = False
    helpdesk.save(update_fields=["is_active"])
    request = rf.get("/accounts/okta/login/callback/")
    request.user = AnonymousUser()
    with pytest.raises(ImmediateHttpResponse) as info:
        PortalSocialAccountAdapter(request).pre_social_login(request, _okta_login(helpdesk.email))
    assert "No portal account uses" in info.value.response.content.decode()
