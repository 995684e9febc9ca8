"""Role predicates used by views, templates and services alike."""

from __future__ import annotations

from typing import Any

from offboarding.roles import Role


def role_names(user: Any) -> frozenset[str]:
    """The user's role groups, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._portal_roles = cached
    return cached


def has_role(user: Any, *roles: str) -> bool:
    return bool(role_names(user).intersection(roles))


def can_search_users(user: Any) -> bool:
    return has_role(user, Role.HELPDESK, Role.APPROVER)


def can_request(user: Any) -> bool:
    return has_role(user, Role.HELPDESK, Role.APPROVER)


def can_approve(user: Any) -> bool:
    return has_role(user, Role.APPROVER)


def can_view_audit(user: Any) -> bool:
    return has_role(user, Role.AUDITOR)


def can_manage_connections(user: Any) -> bool:
    return has_role(user, Role.CONNECTION_ADMIN)


def primary_role_label(user: Any) -> str:
    """A short label for the header, e.g. 'Approver' or 'Helpdesk, Auditor'."""
    names = [r for r in Role.values if r in role_names(user)]
    if names:
        return ", ".join(names)
    return "Administrator" if getattr(user, "is_superuser", False) else "No role"
