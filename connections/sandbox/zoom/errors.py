"""Zoom's error body ({"code", "message"}) for every failure the sandbox answers."""

from __future__ import annotations

from connections.sandbox.provider import ErrorShapes
from connections.sandbox.web import Resp


def zoom_error(status: int, code: int, message: str) -> Resp:
    """A Zoom API error."""
    return Resp(status, {"code": code, "message": message})


def not_found_path(path: str) -> Resp:
    return zoom_error(404, 404, "Not Found")


def method_not_allowed(method: str) -> Resp:
    return zoom_error(405, 405, f"Method {method} is not allowed.")


def bad_body(kind: str) -> Resp:
    if kind == "content_type":
        return zoom_error(400, 300, "Unsupported Content Type")
    return zoom_error(400, 300, "Request Body should be a valid JSON object.")


def server_error(status: int) -> Resp:
    return zoom_error(
        status, status, "Internal server error" if status == 500 else "Service Unavailable"
    )


def rate_limited(retry_after: int, quota: bool = False) -> Resp:
    resp = zoom_error(
        429,
        429,
        "You have reached the maximum per-second rate limit for this API. Try again later.",
    )
    resp.headers["Retry-After"] = str(retry_after)
    return resp


def unauthorized(missing: bool = False) -> Resp:
    return zoom_error(401, 124, "Invalid access token.")


SHAPES = ErrorShapes(
    not_found_path=not_found_path,
    method_not_allowed=method_not_allowed,
    bad_body=bad_body,
    server_error=server_error,
    rate_limited=rate_limited,
    unauthorized=unauthorized,
)
