"""Bearer tokens: who is calling, whether the token holds a scope, and its rate limit."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.security import HttpBearer

from offboarding.api.problems import ApiProblem
from offboarding.models import ApiToken
from offboarding.selectors_api import api_token_find

WINDOW_SECONDS = 60


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: a usable token, within its rate limit."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_find(token.strip())
        if found is None:
            return None
        request.api_token = found  # type: ignore[attr-defined]  # read by the call audit
        rate_limit(found)
        return found


def rate_limit(token: ApiToken) -> None:
    """A fixed window per token and minute, counted in the shared cache (so across workers).
    Raises the 429 problem, saying when the window ends."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"api-rate:{token.pk}:{window}"
    try:
        count = cache.incr(key)  # one write per call once the window's counter exists
    except ValueError:  # the window's first call (or two at once: add lets one set it)
        count = 1 if cache.add(key, 1, timeout=WINDOW_SECONDS + 5) else cache.incr(key)
    if count > settings.PORTAL_API_RATE_LIMIT_PER_MINUTE:
        wait = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        raise ApiProblem(
            "rate-limited",
            f"This token may make {settings.PORTAL_API_RATE_LIMIT_PER_MINUTE} calls a minute: "
            f"try again in {wait} s.",
            retry_after=wait,
        )


def token_of(request: HttpRequest) -> ApiToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    return token


def require_scope(request: HttpRequest, scope: str) -> ApiToken:
    """The calling token, if it holds `scope`; else the 403 problem naming the scope."""
    token = token_of(request)
    if scope not in token.scopes:
        raise ApiProblem("scope-missing", f"This needs a token with the scope “{scope}”.")
    return token
