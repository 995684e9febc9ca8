"""What the shared server needs to know about one simulated system (the list is in providers.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connections.sandbox.routing import Handler, Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App
    from connections.sandbox.state import PersonState

Rate = tuple[int, int, int]  # (limit, remaining, reset epoch)


@dataclass(frozen=True)
class ErrorShapes:
    """How one API words the errors that the shared server answers with."""

    not_found_path: Callable[[str], Resp]  # (path): an unknown path
    method_not_allowed: Callable[[str], Resp]  # (method): a known path, another method
    bad_body: Callable[[str], Resp]  # (BadBody.kind): malformed JSON or a wrong content type
    server_error: Callable[[int], Resp]  # (500 or 503)
    rate_limited: Callable[[int, bool], Resp]  # (retry_after, quota): over a limit
    unauthorized: Callable[[bool], Resp]  # (missing): no or an invalid credential


@dataclass(frozen=True)
class Provider:
    """One simulated system: where it lives, its routes, token endpoint, auth and error shapes."""

    system: str  # first path segment; the name faults, the effect log and the control API use
    api_prefix: str  # below the system segment, e.g. "/api/v1"
    router: Router  # API routes, matched below api_prefix
    token_params: Callable[[str], dict[str, str] | None]  # path -> params if it is the token URL
    token: Handler  # the token endpoint (POST only; the server answers other methods)
    authenticate: Callable[[App, Request, tuple[str, ...]], Resp | None]  # None: allowed
    errors: ErrorShapes
    rate_limits: Mapping[str, int]  # Okta-like per-minute limits per endpoint family
    person_view: Callable[[App, int, PersonState], dict | None]  # None: no account here
    describe: Callable[[str, dict], str]  # (base URL, credentials) -> the start-up banner line
    load_keys: Callable[[dict], Any] | None = None  # credentials -> what token checks verify with
    rate_headers: Callable[[Resp, Rate], None] | None = None  # sent on every answer when set
    control: Router | None = None  # extra /_sandbox/ routes for this system
    # Routes below the system segment but outside the API, without API auth, faults or rate
    # limits (Okta's OpenID Connect issuer: discovery, authorize, keys, userinfo).
    pages: Router | None = None


def at_path(token_path: str) -> Callable[[str], dict[str, str] | None]:
    """A token_params for a fixed token path (a trailing slash is tolerated)."""

    def token_params(path: str) -> dict[str, str] | None:
        return {} if path.rstrip("/") == token_path else None

    return token_params
