"""Template context every page needs: the navigation and the signed-in user's role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from offboarding.permissions import primary_role_label
from portal.navigation import navigation_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "role_label": ""}
    return {
        "nav_items": navigation_for(user, request.path),
        "role_label": primary_role_label(user),
    }
