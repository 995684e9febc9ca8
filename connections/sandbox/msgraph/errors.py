"""Microsoft Graph's error body (error.code, message, innerError) for every failure the sandbox answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from connections.sandbox.provider import ErrorShapes
from connections.sandbox.web import Resp


def graph_error(status: int, code: str, message: str) -> Resp:
    """A Graph API error."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    rid = str(uuid.uuid4())
    inner = {"date": now, "request-id": rid, "client-request-id": rid}
    return Resp(status, {"error": {"code": code, "message": message, "innerError": inner}})


def not_found(key: str) -> Resp:
    """Request_ResourceNotFound for a user or device key."""
    return graph_error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
    )


def bad_request(message: str) -> Resp:
    return graph_error(400, "Request_BadRequest", message)


def not_found_path(path: str) -> Resp:
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return graph_error(404, "UnknownError", f"Resource not found for the segment '{segment}'.")


def method_not_allowed(method: str) -> Resp:
    return graph_error(405, "Request_BadRequest", f"The HTTP method '{method}' is not allowed.")


def bad_body(kind: str) -> Resp:
    message = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
    return graph_error(400, "BadRequest", message)


def server_error(status: int) -> Resp:
    code = "generalException" if status == 500 else "serviceNotAvailable"
    return graph_error(
        status,
        code,
        "An unexpected error occurred." if status == 500 else "Service unavailable.",
    )


def rate_limited(retry_after: int, quota: bool = False) -> Resp:
    """429 with the headers Microsoft documents for throttled identity calls (throttling-limits):
    Retry-After, x-ms-throttle-scope and x-ms-throttle-information (plus x-ms-resource-unit)."""
    resp = graph_error(
        429,
        "TooManyRequests",
        "Too many requests." if not quota else "Resource unit limit exceeded for the application.",
    )
    resp.headers.update(
        {
            "Retry-After": str(retry_after),
            "x-ms-resource-unit": "1",
            "x-ms-throttle-scope": "Tenant_Application/ReadWrite",
            "x-ms-throttle-information": "ResourceUnitLimitExceeded"
            if quota
            else "CommandThrottle",
            "x-ms-throttle-limit-percentage": "1.0",
        }
    )
    return resp


def unauthorized(missing: bool = False) -> Resp:
    message = (
        "Access token is empty."
        if missing
        else "Access token validation failure. Invalid audience."
    )
    return graph_error(401, "InvalidAuthenticationToken", message)


SHAPES = ErrorShapes(
    not_found_path=not_found_path,
    method_not_allowed=method_not_allowed,
    bad_body=bad_body,
    server_error=server_error,
    rate_limited=rate_limited,
    unauthorized=unauthorized,
)
