"""Helpers every offboarding view uses: the signed-in user, visibility and recent sign-in."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from offboarding import permissions as perms
from offboarding import selectors
from offboarding.models import ActionRequest


def signed_in_user(request: HttpRequest) -> User:
    """The person behind the request (LoginRequiredMiddleware lets nobody else this far)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def signed_in_recently(request: HttpRequest) -> bool:
    """A sign-in or re-authentication in this session within ACCOUNT_REAUTHENTICATION_TIMEOUT."""
    from allauth.account.internal.flows.login import get_authentication_records
    from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate

    if did_recently_reauthenticate(request):
        return True
    timeout = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    records = get_authentication_records(request, request.user)
    return any(time.time() - float(r.get("at", 0)) < timeout for r in records)


def require_recent_sign_in(request: HttpRequest) -> None:
    if not signed_in_recently(request):
        from allauth.core.exceptions import ReauthenticationRequired

        raise ReauthenticationRequired()


def recent_sign_in_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """POSTs need a sign-in within 5 minutes; allauth's middleware asks and resumes the POST."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            require_recent_sign_in(request)
        return view(request, *args, **kwargs)

    return wrapper


def get_request_for_user(user: perms.AnyUser, pk: int) -> ActionRequest:
    """The request with its steps, or 404 when it does not exist or is not visible to the user."""
    try:
        req = selectors.action_request_detail(pk)
    except ActionRequest.DoesNotExist:
        raise Http404("No such request.") from None
    if not perms.can_view_request(user, req):
        raise Http404("No such request.")
    return req
