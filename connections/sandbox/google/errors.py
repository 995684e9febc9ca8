"""Google's error envelope (error.code, message, errors[].reason, status) for every failure answered."""

from __future__ import annotations

from connections.sandbox.provider import ErrorShapes
from connections.sandbox.web import Resp


def google_error(status: int, message: str, reason: str, gstatus: str, **extra: str) -> Resp:
    """A Google API error; extra fields (domain, location, ...) go into the errors[] entry."""
    detail = {"message": message, "domain": extra.pop("domain", "global"), "reason": reason}
    detail.update(extra)
    return Resp(
        status,
        {"error": {"code": status, "message": message, "errors": [detail], "status": gstatus}},
    )


def not_found(what: str = "userKey") -> Resp:
    """The resource named by a path parameter does not exist."""
    return google_error(404, f"Resource Not Found: {what}", "notFound", "NOT_FOUND")


def invalid(message: str) -> Resp:
    """A 400 for a bad parameter or field value."""
    return google_error(400, message, "invalid", "INVALID_ARGUMENT")


def not_found_path(path: str) -> Resp:
    return google_error(404, "Not Found", "notFound", "NOT_FOUND")


def method_not_allowed(method: str) -> Resp:
    return google_error(405, "Method Not Allowed", "httpMethodNotAllowed", "INVALID_ARGUMENT")


def bad_body(kind: str) -> Resp:
    if kind == "content_type":
        return google_error(
            400,
            "Media type is not supported; use application/json.",
            "badContent",
            "INVALID_ARGUMENT",
        )
    return google_error(400, "Invalid JSON payload received.", "parseError", "INVALID_ARGUMENT")


def server_error(status: int) -> Resp:
    if status == 500:
        return google_error(500, "Internal error encountered.", "backendError", "INTERNAL")
    return google_error(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE")


def rate_limited(retry_after: int, quota: bool = False) -> Resp:
    """429 for a burst; over the per-minute quota Google answers 403 userRateLimitExceeded."""
    if quota:
        message = (
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'."
        )
        resp = google_error(
            403, message, "userRateLimitExceeded", "PERMISSION_DENIED", domain="usageLimits"
        )
    else:
        resp = google_error(
            429,
            "Rate Limit Exceeded",
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
            domain="usageLimits",
        )
    resp.headers["Retry-After"] = str(retry_after)
    return resp


def unauthorized(missing: bool = False) -> Resp:
    message = (
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential."
        if missing
        else "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
    )
    return google_error(
        401,
        message,
        "required" if missing else "authError",
        "UNAUTHENTICATED",
        location="Authorization",
        locationType="header",
    )


def forbidden() -> Resp:
    """The token's subject is not an administrator."""
    return google_error(
        403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED"
    )


def scope_denied() -> Resp:
    """The token lacks every scope the endpoint accepts."""
    return google_error(
        403,
        "Request had insufficient authentication scopes.",
        "insufficientPermissions",
        "PERMISSION_DENIED",
    )


SHAPES = ErrorShapes(
    not_found_path=not_found_path,
    method_not_allowed=method_not_allowed,
    bad_body=bad_body,
    server_error=server_error,
    rate_limited=rate_limited,
    unauthorized=unauthorized,
)
