"""Request/response value types and each API's error shapes."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs


class BadBody(Exception):
    """The body is not the JSON object (or form) the endpoint expects."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind  # "json" or "content_type"


@dataclass
class Request:
    """One parsed HTTP request, as the handlers see it."""

    method: str
    path: str  # path below the system prefix, e.g. /api/v1/users
    raw_path: str  # full request path with query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # http://host:port
    system: str
    params: dict[str, str] = field(default_factory=dict)
    auth: dict | None = None
    rate: tuple[int, int, int] | None = None  # (limit, remaining, reset epoch)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self, required: bool = True) -> dict:
        """The body as a JSON object; raises BadBody on a wrong type or malformed JSON."""
        if not self.body and not required:
            return {}
        ctype = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise BadBody("content_type")
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise BadBody("json") from exc
        if not isinstance(value, dict):
            raise BadBody("json")
        return value

    def form(self) -> dict[str, str]:
        """The body as an urlencoded form; raises BadBody on another content type."""
        ctype = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise BadBody("content_type")
        try:
            parsed = parse_qs(self.body.decode(), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise BadBody("json") from exc
        return {k: v[0] for k, v in parsed.items()}


@dataclass
class Resp:
    """What a handler answers; `applied` says whether state changed."""

    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    applied: bool = False

    def encode(self) -> bytes:
        if self.body is None or self.status == 204:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode()


def _error_id() -> str:
    return "oae" + secrets.token_urlsafe(16)[:19]


def okta_error(status: int, code: str, summary: str, causes=()) -> Resp:
    body = {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": _error_id(),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }
    return Resp(status, body)


def google_error(status: int, message: str, reason: str, gstatus: str, **extra) -> Resp:
    detail = {"message": message, "domain": extra.pop("domain", "global"), "reason": reason}
    detail.update(extra)
    return Resp(
        status,
        {"error": {"code": status, "message": message, "errors": [detail], "status": gstatus}},
    )


def zoom_error(status: int, code: int, message: str) -> Resp:
    return Resp(status, {"code": code, "message": message})


def graph_error(status: int, code: str, message: str) -> Resp:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    rid = str(uuid.uuid4())
    inner = {"date": now, "request-id": rid, "client-request-id": rid}
    return Resp(status, {"error": {"code": code, "message": message, "innerError": inner}})


def oauth_error(status: int, error: str, description: str, **extra) -> Resp:
    return Resp(status, {"error": error, "error_description": description, **extra})


NOT_FOUND_GOOGLE = ("Not Found", "notFound", "NOT_FOUND")


def not_found_path(system: str, path: str) -> Resp:
    """An unknown path, in the API's own 404 shape."""
    if system == "okta":
        return okta_error(
            404, "E0000007", f"Not found: Resource not found: {path} (GenericResource)"
        )
    if system == "google":
        return google_error(404, *NOT_FOUND_GOOGLE)
    if system == "zoom":
        return zoom_error(404, 404, "Not Found")
    if system == "graph":
        segment = path.rstrip("/").rsplit("/", 1)[-1]
        return graph_error(404, "UnknownError", f"Resource not found for the segment '{segment}'.")
    return Resp(404, {"error": "not_found", "path": path})


def method_not_allowed(system: str, method: str) -> Resp:
    if system == "okta":
        return okta_error(405, "E0000022", "The endpoint does not support the provided HTTP method")
    if system == "google":
        return google_error(405, "Method Not Allowed", "httpMethodNotAllowed", "INVALID_ARGUMENT")
    if system == "zoom":
        return zoom_error(405, 405, f"Method {method} is not allowed.")
    return graph_error(405, "Request_BadRequest", f"The HTTP method '{method}' is not allowed.")


def bad_body(system: str, kind: str) -> Resp:
    """Malformed JSON or a wrong content type, as each API reports it."""
    wrong_type = kind == "content_type"
    if system == "okta":
        if wrong_type:
            return okta_error(
                400,
                "E0000003",
                "The request body was not well-formed.",
                ["Content-Type must be application/json"],
            )
        return okta_error(400, "E0000003", "The request body was not well-formed.")
    if system == "google":
        if wrong_type:
            return google_error(
                400,
                "Media type is not supported; use application/json.",
                "badContent",
                "INVALID_ARGUMENT",
            )
        return google_error(400, "Invalid JSON payload received.", "parseError", "INVALID_ARGUMENT")
    if system == "zoom":
        if wrong_type:
            return zoom_error(400, 300, "Unsupported Content Type")
        return zoom_error(400, 300, "Request Body should be a valid JSON object.")
    message = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
    return graph_error(400, "BadRequest", message)


def server_error(system: str, status: int) -> Resp:
    """A 500/503 in the API's shape (used by the error-rate fault and for unexpected exceptions)."""
    if system == "okta":
        code = "E0000009" if status == 500 else "E0000010"
        summary = "Internal Server Error" if status == 500 else "Service is temporarily unavailable"
        return okta_error(status, code, summary)
    if system == "google":
        if status == 500:
            return google_error(500, "Internal error encountered.", "backendError", "INTERNAL")
        return google_error(
            503, "The service is currently unavailable.", "backendError", "UNAVAILABLE"
        )
    if system == "zoom":
        return zoom_error(
            status, status, "Internal server error" if status == 500 else "Service Unavailable"
        )
    if system == "graph":
        code = "generalException" if status == 500 else "serviceNotAvailable"
        return graph_error(
            status,
            code,
            "An unexpected error occurred." if status == 500 else "Service unavailable.",
        )
    return Resp(status, {"error": "server_error"})


def rate_limited(system: str, retry_after: int, quota: bool = False) -> Resp:
    """A rate-limit refusal in the API's shape (Google's per-minute quota is a 403)."""
    if system == "okta":
        resp = okta_error(429, "E0000047", "API call exceeded rate limit due to too many requests.")
    elif system == "google" and quota:
        message = (
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'."
        )
        resp = google_error(
            403, message, "userRateLimitExceeded", "PERMISSION_DENIED", domain="usageLimits"
        )
    elif system == "google":
        resp = google_error(
            429,
            "Rate Limit Exceeded",
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
            domain="usageLimits",
        )
    elif system == "zoom":
        resp = zoom_error(
            429,
            429,
            "You have reached the maximum per-second rate limit for this API. Try again later.",
        )
    else:
        resp = graph_error(429, "TooManyRequests", "Too many requests.")
    resp.headers["Retry-After"] = str(retry_after)
    return resp


def unauthorized(system: str, missing: bool = False) -> Resp:
    """A missing or invalid credential on an API call."""
    if system == "okta":
        resp = okta_error(401, "E0000011", "Invalid token provided")
        resp.headers["WWW-Authenticate"] = (
            'Bearer authorization_uri="", realm="IdpApi", error="invalid_token"'
        )
        return resp
    if system == "google":
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
    if system == "zoom":
        return zoom_error(401, 124, "Invalid access token.")
    message = (
        "Access token is empty."
        if missing
        else "Access token validation failure. Invalid audience."
    )
    return graph_error(401, "InvalidAuthenticationToken", message)


def forbidden(system: str) -> Resp:
    """The credential is valid but lacks the scope or the privilege."""
    if system == "okta":
        resp = okta_error(
            403, "E0000006", "You do not have permission to perform the requested action"
        )
        resp.headers["WWW-Authenticate"] = 'Bearer realm="IdpApi", error="insufficient_scope"'
        return resp
    if system == "google":
        return google_error(
            403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED"
        )
    if system == "zoom":
        return zoom_error(403, 4711, "Invalid access token, does not contain scopes.")
    return graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def google_scope_denied() -> Resp:
    return google_error(
        403,
        "Request had insufficient authentication scopes.",
        "insufficientPermissions",
        "PERMISSION_DENIED",
    )
