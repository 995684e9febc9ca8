"""Response headers the framework does not set itself, the two-factor enrolment wall, and held-back
POSTs that survive re-authentication."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import urlencode

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


class ResumeAfterReauthenticationMiddleware:
    """A form posted to a URL with a query string (`/requests/new/…?kind=offboard`) survives the
    password prompt. allauth holds a POST back while the person re-enters the password, but resumes
    it only when the held path equals its `next` URL; it puts the full path (query included) in
    `next` and compares the bare path, so such a POST was silently dropped. Here the POST is held
    with `next` set to the bare path; the query string stays in the held request, so the view sees
    it unchanged when allauth resumes it. GETs (nothing to lose) are left to allauth.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from allauth.account.adapter import get_adapter
        from allauth.account.internal.flows.reauthentication import STATE_SESSION_KEY
        from allauth.core.exceptions import ReauthenticationRequired
        from allauth.core.internal.httpkit import serialize_request

        if not isinstance(exception, ReauthenticationRequired):
            return None
        if request.method != "POST" or not request.user.is_authenticated:
            return None
        methods = get_adapter().get_reauthentication_methods(request.user)
        if not methods:
            return None  # allauth's own middleware refuses (PermissionDenied)
        request.session[STATE_SESSION_KEY] = {"request": serialize_request(request)}
        return HttpResponseRedirect(
            f"{methods[0]['url']}?{urlencode({REDIRECT_FIELD_NAME: request.path})}"
        )
