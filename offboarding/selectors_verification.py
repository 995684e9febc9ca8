"""Reads about verifications (each system's read-back after a request's steps) for pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from offboarding.models import ActionRequest, SystemVerification

V = SystemVerification.Verdict
NONE = "none"  # the history filter's "no read-back recorded"
FILTER_CHOICES = [
    ("", "Any"),
    (V.VERIFIED, "Verified in every system read"),
    (V.NOT_VERIFIED, "Not verified in a system"),
    (V.UNAVAILABLE, "Could not be read in a system"),
    (NONE, "No read-back"),
]


def verification_filter(verdict: str, system: str | None = None) -> Q:
    """Requests whose read-backs match: "verified" means every one read (in `system`, when given)
    is verified; "not_verified" and "unavailable" mean at least one is; "none" means none exists."""
    rows = SystemVerification.objects.filter(action_request=OuterRef("pk"))
    if system:
        rows = rows.filter(system=system)
    if verdict == NONE:
        return ~Q(Exists(rows))
    if verdict == V.VERIFIED:
        return Q(Exists(rows)) & ~Q(Exists(rows.exclude(verdict=V.VERIFIED)))
    return Q(Exists(rows.filter(verdict=verdict)))


def verifications_by_system(action_request: ActionRequest) -> dict[str, dict[str, Any]]:
    """{system: {verdict, label, summary, at, observed: [(what, words)]}} for the status page."""
    found = {}
    for row in SystemVerification.objects.filter(action_request=action_request):
        found[row.system] = {
            "verdict": row.verdict,
            "label": row.get_verdict_display(),
            "summary": row.summary,
            "at": row.at,
            "observed": [(_words(k), _value(v)) for k, v in (row.observed or {}).items()],
        }
    return found


def _words(key: str) -> str:
    return key.replace("_", " ")


def _value(value: Any) -> str:
    """A read value in words: a device map as "id: status, …", a count or status as is."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
