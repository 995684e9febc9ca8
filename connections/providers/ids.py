"""Ids that become URL path segments: checked against the provider's syntax, then percent-encoded.

A person id from a page URL (`/users/%2E/`) or from a provider's answer ends up in a path such as
`/api/v1/users/{id}`. Percent-encoding alone is not enough: `.` and `..` are dot-segments that
clients and servers remove (`/users/.` is the user list, `/users/..` is the API root), and an
empty id names the collection. So every segment is checked here first, and refused in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from connections.types import ConnectorError, System

# Anything but separators, escapes and white space: a login or email as a provider accepts it.
_NAME = r"[^\s/\\?#%]+"
EMAIL = rf"{_NAME}@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
GUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"


@dataclass(frozen=True)
class IdSyntax:
    """What one provider accepts as one kind of id, and how to say it to a person."""

    pattern: str  # a regular expression the whole id must match
    words: str  # e.g. "an Okta user id or login"
    max_length: int = 256

    def matches(self, value: str) -> bool:
        return len(value) <= self.max_length and re.fullmatch(self.pattern, value) is not None


def path_segment(value: object, syntax: IdSyntax, system: System) -> str:
    """`value` percent-encoded as one path segment; ConnectorError (code bad_id) if it is no id.

    Never retryable: the same id would be refused again.
    """
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    if (
        text in ("", ".", "..")
        or not text.isprintable()
        or any(c.isspace() for c in text)
        or not syntax.matches(text)
    ):
        raise ConnectorError(
            f"{system.label}: “{_shown(text)}” is not {syntax.words}; nothing was sent.",
            system=system.value,
            code="bad_id",
        )
    # Only unreserved characters (and "@", common in ids and harmless in a path) stay as they are.
    return quote(text, safe="@")


def _shown(text: str) -> str:
    cleaned = "".join(c if c.isprintable() else "�" for c in text)
    return cleaned if len(cleaned) <= 60 else cleaned[:57] + "…"
