"""Template filters for words shown to people (issue 16)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from offboarding.audit_display import detail_fields, state_words
from offboarding.models import SystemChoices

register = template.Library()


@register.filter
def fields(details: Any) -> list[tuple[str, str]]:
    """An audit event's details as (label, value) pairs."""
    return detail_fields(details)


@register.filter
def short_fields(details: Any) -> list[tuple[str, str]]:
    """The same, with long values cut for a list."""
    return detail_fields(details, short=True)


@register.filter
def account_state(state: Any) -> str:
    """Okta ACTIVE, Graph enabled, Zoom inactive… in one vocabulary (Active, Suspended, …)."""
    return state_words(state)


@register.filter
def system_names(systems: Any) -> str:
    """["okta", "msgraph"] as "Okta, Microsoft 365", in the portal's order of systems."""
    chosen = set(systems or [])
    return ", ".join(label for value, label in SystemChoices.choices if value in chosen)


@register.filter
def breakable(text: Any) -> SafeString:
    """An email or login that may wrap only after "@" and before dots, never mid-word."""
    escaped = str(escape(text or ""))
    return mark_safe(escaped.replace("@", "@<wbr>").replace(".", "<wbr>."))  # noqa: S308 (escaped)
