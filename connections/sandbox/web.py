"""Request/response value types shared by every simulated system, and the OAuth error shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


def oauth_error(status: int, error: str, description: str, **extra: object) -> Resp:
    """An OAuth 2.0 token endpoint error (RFC 6749 section 5.2), with a provider's extra fields."""
    return Resp(status, {"error": error, "error_description": description, **extra})


def no_such_system(path: str) -> Resp:
    """A path outside every simulated system."""
    return Resp(404, {"error": "not_found", "message": f"No sandbox system at {path}"})


def server_error(status: int) -> Resp:
    """A 500 where no API's shape applies (the control API, an unknown system)."""
    return Resp(status, {"error": "server_error"})
