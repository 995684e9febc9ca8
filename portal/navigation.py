"""The navigation: what each role may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from offboarding import permissions as perms
from offboarding.permissions import AnyUser
from offboarding.selectors import approvals_pending_for
from offboarding.selectors_bulk import batches_pending_for
from offboarding.selectors_review import reviews_waiting_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    allowed: Callable[[AnyUser], bool]
    count: Callable[[AnyUser], int] | None = None  # a number shown beside the label
    # Issue 16: pages reached from this item that live under other paths (a person, a new
    # request from that person, break-glass) highlight it; paths listed in `not_under` do not.
    also_under: tuple[str, ...] = ()
    not_under: tuple[str, ...] = ()


def _signed_in(user: AnyUser) -> bool:
    return user.is_authenticated


def _superuser(user: AnyUser) -> bool:
    return user.is_superuser


def _pending_approvals(user: AnyUser) -> int:
    # Bulk batches (issue 15) wait on the same page.
    return approvals_pending_for(user).count() + batches_pending_for(user).count()


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Dashboard", "home", _signed_in),
    NavItem(
        "Search users",
        "offboarding:search",
        perms.can_search_users,
        also_under=("/users/", "/requests/new/", "/break-glass/"),
    ),
    NavItem("Bulk", "offboarding:bulk-new", perms.can_request),
    NavItem("Approvals", "offboarding:approvals", perms.can_approve, count=_pending_approvals),
    NavItem("Reviews", "offboarding:reviews", perms.can_review_runs, count=reviews_waiting_for),
    NavItem(
        "Requests",
        "offboarding:request-list",
        perms.can_browse_requests,
        not_under=("/requests/new/",),
    ),
    NavItem("Audit", "offboarding:audit", perms.can_view_audit),
    NavItem("Connections", "connections:list", perms.can_manage_connections),
    NavItem("Policies", "offboarding:policies", perms.can_manage_delegations),
    NavItem("API tokens", "offboarding:api-tokens", perms.can_manage_api_tokens),
    NavItem("Playbooks", "offboarding:playbooks", perms.can_export_playbooks),  # issue 17
    NavItem("Django admin", "admin:index", _superuser),
)


def navigation_for(user: AnyUser, current_path: str = "") -> list[dict[str, Any]]:
    items = []
    for item in NAV_ITEMS:
        if not item.allowed(user):
            continue
        url = reverse(item.url_name)
        active = current_path == url if url == "/" else current_path.startswith(url)
        active = (active or current_path.startswith(item.also_under)) and not (
            current_path.startswith(item.not_under)
        )
        count = item.count(user) if item.count else None
        items.append({"label": item.label, "url": url, "active": active, "count": count})
    return items
