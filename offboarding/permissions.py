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


# --- Scope-aware predicates (one request, one user) ------------------------------------------------


def _in_group(user: Any, group_id: int | None) -> bool:
    if group_id is None or not getattr(user, "is_authenticated", False):
        return False
    cache = getattr(user, "_portal_group_ids", None)
    if cache is None:
        cache = frozenset(user.groups.values_list("id", flat=True))
        user._portal_group_ids = cache
    return group_id in cache


def is_requester(user: Any, action_request: Any) -> bool:
    return getattr(user, "pk", None) is not None and action_request.requester_id == user.pk


def can_decide_request(user: Any, action_request: Any) -> bool:
    """Approve or reject: an Approver in the request's approver group, never the requester."""
    return (
        can_approve(user)
        and not is_requester(user, action_request)
        and _in_group(user, action_request.approver_group_id)
    )


def can_view_request(user: Any, action_request: Any) -> bool:
    if getattr(user, "is_superuser", False) or can_view_audit(user):
        return True
    if is_requester(user, action_request):
        return True
    return can_approve(user) and _in_group(user, action_request.approver_group_id)


def can_cancel_request(user: Any, action_request: Any) -> bool:
    return (is_requester(user, action_request) and can_request(user)) or can_decide_request(
        user, action_request
    )


def can_retry_request(user: Any, action_request: Any) -> bool:
    return can_cancel_request(user, action_request)


def can_change_request(user: Any, action_request: Any) -> bool:
    return is_requester(user, action_request) and can_request(user)


def can_verify_audit(user: Any) -> bool:
    return can_view_audit(user)


def can_manage_delegations(user: Any) -> bool:
    return can_manage_connections(user) or getattr(user, "is_superuser", False)
