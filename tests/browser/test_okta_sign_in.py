""" "Sign in with Okta" end to end in Chromium, against the sandbox's Okta as an OpenID Connect issuer.

Links a first Okta sign-in to the existing portal account with the same verified email; never
creates an account; refuses an unknown or unverified email in words.
"""

from __future__ import annotations

import httpx
import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from connections.sandbox.okta.oidc import sign_in_app

pytestmark = pytest.mark.django_db(transaction=True)

ALICE = "alice.anders@acme.example"  # ACTIVE in the sandbox's Okta
BOB = "bob.brandt@acme.example"  # ACTIVE in Okta, no portal account


@pytest.fixture
def okta_sign_in(sandbox, settings):
    """The portal's Okta sign-in pointed at the sandbox's org authorization server."""
    client_id, secret = sign_in_app(sandbox.credentials)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "okta",
                    "name": "Okta",
                    "client_id": client_id,
                    "secret": secret,
                    "settings": {"server_url": f"{sandbox.base_url}/okta"},
                }
            ],
        }
    }
    # What settings.py adds for a configured org URL: the authorize redirect is a form target.
    settings.CONTENT_SECURITY_POLICY = settings.CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {sandbox.base_url}/okta"
    )
    return sandbox


def _sign_in_with_okta(page, login: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("sso-okta").click()
    page.get_by_role("heading", name="Sandbox Okta sign-in").wait_for()
    page.get_by_label("Okta login").fill(login)
    page.get_by_role("button", name="Sign in").click()


def test_an_existing_account_with_the_verified_email_is_signed_in(
    page, okta_sign_in, helpdesk, screenshot
):
    helpdesk.email = ALICE
    helpdesk.save(update_fields=["email"])
    users_before = get_user_model().objects.count()
    _sign_in_with_okta(page, ALICE)
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.get_by_test_id("role").inner_text() == "Helpdesk"
    account = SocialAccount.objects.get()
    okta_id = okta_sign_in.person(ALICE)["okta"]["id"]
    assert (account.user_id, account.provider, account.uid) == (helpdesk.pk, "okta", okta_id)
    assert get_user_model().objects.count() == users_before
    helpdesk.refresh_from_db()
    assert helpdesk.has_usable_password()  # linking never wipes the portal password
    screenshot(page, "okta-sign-in-linked")

    # The second time the link is by Okta's subject, not the email.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")
    _sign_in_with_okta(page, ALICE)
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert SocialAccount.objects.count() == 1


def test_an_unknown_email_is_refused_and_no_account_is_made(page, okta_sign_in, helpdesk):
    users_before = get_user_model().objects.count()
    _sign_in_with_okta(page, BOB)
    refusal = page.get_by_test_id("sso-refused")
    assert f"No portal account uses the address {BOB}" in refusal.inner_text()
    assert get_user_model().objects.count() == users_before
    assert not SocialAccount.objects.exists()
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_an_unverified_email_is_refused(page, okta_sign_in, helpdesk, screenshot):
    helpdesk.email = ALICE
    helpdesk.save(update_fields=["email"])
    answer = httpx.post(
        f"{okta_sign_in.base_url}/_sandbox/okta/people/{ALICE}/email-verified",
        json={"verified": False},
    )
    assert answer.status_code == 200 and answer.json()["email_verified"] is False
    _sign_in_with_okta(page, ALICE)
    refusal = page.get_by_test_id("sso-refused")
    assert "Okta has not verified the email address" in refusal.inner_text()
    assert not SocialAccount.objects.exists()
    screenshot(page, "okta-sign-in-unverified")
    page.goto("/")
    assert "/accounts/login/" in page.url
