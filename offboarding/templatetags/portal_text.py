"""Template filters for words shown to people (issue 16)."""

from __future__ import annotations

from typing import Any

from django import template

from offboarding.audit_display import detail_fields

register = template.Library()


@register.filter
def fields(details: Any) -> list[tuple[str, str]]:
    """An audit event's details as (label, value) pairs."""
    return detail_fields(details)


@register.filter
def short_fields(details: Any) -> list[tuple[str, str]]:
    """The same, with long values cut for a list."""
    return detail_fields(details, short=True)
