"""The navigation: what each role may use. An entry whose page does not exist yet is left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from offboarding import permissions as perms


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    allowed: Callable[[Any], bool]
    count: Callable[[Any], int] | None = None  # a number shown beside the label


def _pending_approvals(user: Any) -> int:
    from offboarding.selectors import approvals_pending_for

    return approvals_pending_for(user).count()


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Dashboard", "home", lambda user: user.is_authenticated),
    NavItem("Search users", "offboarding:search", perms.can_search_users),
    NavItem("Approvals", "offboarding:approvals", perms.can_approve, count=_pending_approvals),
    NavItem(
        "Requests",
        "offboarding:request-list",
        lambda u: perms.can_request(u) or perms.can_approve(u) or perms.can_view_audit(u),
    ),
    NavItem("Audit", "offboarding:audit", perms.can_view_audit),
    NavItem("Connections", "connections:list", perms.can_manage_connections),
    NavItem("Policies", "offboarding:policies", perms.can_manage_delegations),
    NavItem("Django admin", "admin:index", lambda user: user.is_superuser),
)


def navigation_for(user: Any, current_path: str = "") -> list[dict[str, Any]]:
    items = []
    for item in NAV_ITEMS:
        if not item.allowed(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        count = item.count(user) if item.count else None
        items.append({"label": item.label, "url": url, "active": active, "count": count})
    return items
