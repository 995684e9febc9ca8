"""allauth adapters: no self sign-up; accounts are made by administrators."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.shortcuts import render


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
    """Okta sign-in links to an existing portal account by verified email; it never creates one."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        """Link a first Okta sign-in to the one active account with its verified email, or refuse.

        An Okta identity linked before signs in as its account. Raises ImmediateHttpResponse (a
        403 page saying why) when Okta has not verified the email or no single account uses it.
        """
        if sociallogin.is_existing:
            return
        verified = [a.email for a in sociallogin.email_addresses if a.verified and a.email]
        if not verified:
            _refuse(
                request,
                "Okta has not verified the email address of this Okta account, so the portal "
                "cannot tell which portal account it belongs to.",
            )
        users = list(get_user_model().objects.filter(email__iexact=verified[0], is_active=True)[:2])
        if len(users) != 1:
            _refuse(
                request,
                f"No portal account uses the address {verified[0]}. Accounts are created by a "
                "portal administrator; ask them to create yours with this address."
                if not users
                else f"More than one portal account uses the address {verified[0]}; ask a "
                "portal administrator to fix this.",
            )
        sociallogin.connect(request, users[0])


def _refuse(request: HttpRequest, reason: str) -> None:
    response = render(request, "socialaccount/okta_refused.html", {"reason": reason}, status=403)
    raise ImmediateHttpResponse(response)
