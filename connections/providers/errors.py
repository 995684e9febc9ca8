"""Provider answers in words: error messages, Retry-After, configuration errors."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

from connections.types import ConnectorError, System


def rate_headers(headers: httpx.Headers | None) -> tuple[int | None, float | None]:
    """(calls left, refill time as epoch seconds) from Okta's X-Rate-Limit-Remaining/-Reset."""
    if headers is None:
        return None, None
    try:
        remaining = int(headers.get("X-Rate-Limit-Remaining", "").strip())
        reset = float(headers.get("X-Rate-Limit-Reset", "").strip())
    except ValueError:
        return None, None
    return remaining, reset


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP-date) or Okta's X-Rate-Limit-Reset."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After", "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, when.timestamp() - now)
    reset = headers.get("X-Rate-Limit-Reset", "").strip()
    if reset.isdigit():
        return max(0.0, float(reset) - now)
    return None


def short(text: Any, limit: int = 200) -> str:
    """Text on one line, cut to `limit` characters (for words taken from a provider's body)."""
    return " ".join(str(text).split())[:limit]


def generic_words(status: int, resource: str) -> str:
    """What an HTTP status means, when the provider's body said nothing useful."""
    if status == 401:
        return "the credential was refused"
    if status == 403:
        return "permission denied (the credential lacks a scope, permission or admin role)"
    if status == 404:
        return f"{resource} not found"
    if status == 429:
        return "rate limit reached; try again later"
    if status >= 500:
        return "the service is unavailable"
    if 300 <= status < 400:
        return "unexpected redirect (not followed)"
    return "the request was refused"


def config_error(system: System, words: str, code: str = "bad_configuration") -> ConnectorError:
    """A permanent error about the connection's own settings."""
    return ConnectorError(f"{system.label}: {words}", system=system.value, code=code)
