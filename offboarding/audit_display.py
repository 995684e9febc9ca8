"""Words people read (issue 16): an audit event's details as labelled fields (not Python dict text),
and one vocabulary for account states across the four systems."""

from __future__ import annotations

from typing import Any

_LABELS = {
    "ip": "IP address",
    "okta_id": "Okta id",
    "seq": "Event #",
    "url": "URL",
    "id": "Id",
}
_SHORT = 80


def _label(key: str) -> str:
    return _LABELS.get(key) or key.replace("_", " ").strip().capitalize() or "—"


def value_words(value: Any) -> str:
    """One value in words: yes/no, — for nothing, lists joined, nested objects as key: value."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(value_words(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(k))}: {value_words(v)}" for k, v in value.items())
    return str(value)


def detail_fields(details: Any, *, short: bool = False) -> list[tuple[str, str]]:
    """(label, value) pairs in the details' own order; `short` cuts long values for a list page."""
    if not isinstance(details, dict):
        return [("Details", value_words(details))] if details else []
    fields = []
    for key, value in details.items():
        words = value_words(value)
        if short and len(words) > _SHORT:
            words = words[: _SHORT - 1] + "…"
        fields.append((_label(str(key)), words))
    return fields


# Each system names its states its own way (Okta ACTIVE, Graph enabled, Zoom inactive); the pages
# say them one way.
_STATE_WORDS = {
    "active": "Active",
    "enabled": "Active",
    "suspended": "Suspended",
    "disabled": "Suspended",
    "deprovisioned": "Deactivated",
    "deactivated": "Deactivated",
    "inactive": "Deactivated",
    "locked_out": "Locked out",
    "staged": "Staged (not yet activated)",
    "provisioned": "Provisioned (not yet activated)",
    "recovery": "Password reset pending",
    "password_expired": "Password expired",
    "pending": "Pending",
}


def state_words(state: Any) -> str:
    """An account state from any system in the portal's one vocabulary."""
    text = str(state or "").strip()
    return _STATE_WORDS.get(text.lower(), text.replace("_", " ").capitalize() or "—")
