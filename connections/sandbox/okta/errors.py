"""Okta's error objects (errorCode, errorSummary, errorCauses) for every failure the sandbox answers."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from connections.sandbox.provider import ErrorShapes
from connections.sandbox.web import Resp


def _error_id() -> str:
    return "oae" + secrets.token_urlsafe(16)[:19]


def okta_error(status: int, code: str, summary: str, causes: Iterable[str] = ()) -> Resp:
    """An Okta error object."""
    body = {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": _error_id(),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }
    return Resp(status, body)


def not_found(key: str, kind: str) -> Resp:
    """E0000007 for a resource that does not exist, e.g. not_found(user_id, "User")."""
    return okta_error(404, "E0000007", f"Not found: Resource not found: {key} ({kind})")


def not_found_path(path: str) -> Resp:
    return not_found(path, "GenericResource")


def method_not_allowed(method: str) -> Resp:
    return okta_error(405, "E0000022", "The endpoint does not support the provided HTTP method")


def bad_body(kind: str) -> Resp:
    if kind == "content_type":
        return okta_error(
            400,
            "E0000003",
            "The request body was not well-formed.",
            ["Content-Type must be application/json"],
        )
    return okta_error(400, "E0000003", "The request body was not well-formed.")


def server_error(status: int) -> Resp:
    code = "E0000009" if status == 500 else "E0000010"
    summary = "Internal Server Error" if status == 500 else "Service is temporarily unavailable"
    return okta_error(status, code, summary)


def rate_limited(retry_after: int, quota: bool = False) -> Resp:
    resp = okta_error(429, "E0000047", "API call exceeded rate limit due to too many requests.")
    resp.headers["Retry-After"] = str(retry_after)
    return resp


def unauthorized(missing: bool = False) -> Resp:
    resp = okta_error(401, "E0000011", "Invalid token provided")
    resp.headers["WWW-Authenticate"] = (
        'Bearer authorization_uri="", realm="IdpApi", error="invalid_token"'
    )
    return resp


def forbidden() -> Resp:
    """The credential is valid but lacks the scope."""
    resp = okta_error(403, "E0000006", "You do not have permission to perform the requested action")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="IdpApi", error="insufficient_scope"'
    return resp


SHAPES = ErrorShapes(
    not_found_path=not_found_path,
    method_not_allowed=method_not_allowed,
    bad_body=bad_body,
    server_error=server_error,
    rate_limited=rate_limited,
    unauthorized=unauthorized,
)
