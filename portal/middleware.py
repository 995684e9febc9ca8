"""Response headers the framework does not set itself, and the two-factor enrolment wall."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from offboarding.exceptions import MfaRequired
from offboarding.permissions import mfa_roles_of, mfa_satisfied


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header (everything from 'self'; no inline script)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY  # read per response: tests may change it
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


# allauth's pages (sign-in, sign-out, re-authentication, enrolment itself) stay open: portal/urls.py
# mounts them here.
_ACCOUNT_PAGES = "/accounts/"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class MfaEnrolmentMiddleware:
    """PORTAL_REQUIRE_MFA_FOR: a member of those roles who has not enrolled an authenticator app may
    look but not act. Every other method than GET (outside the account pages) is sent to
    enrolment, saying why; the pages show the same words (base.html) and the services refuse too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.PORTAL_REQUIRE_MFA_FOR
            and request.method not in _SAFE_METHODS
            and not request.path.startswith(_ACCOUNT_PAGES)
            and not mfa_satisfied(request.user)
        ):
            messages.warning(request, MfaRequired(mfa_roles_of(request.user)).message)
            return redirect("mfa_activate_totp")
        return self.get_response(request)
