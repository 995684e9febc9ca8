"""An audit event's details as labelled fields people can read (issue 16), not Python dict text."""

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
