"""Template context every page needs: the navigation, the signed-in user's role, and whether
that role makes them enrol an authenticator app before they can act."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from offboarding.permissions import mfa_roles_of, mfa_satisfied, primary_role_label
from portal.navigation import navigation_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "role_label": "", "mfa_roles_to_enrol": []}
    return {
        "nav_items": navigation_for(user, request.path),
        "role_label": primary_role_label(user),
        # PORTAL_REQUIRE_MFA_FOR: the roles that make this user enrol TOTP before acting (not
        # repeated on the account pages, where enrolment itself happens).
        "mfa_roles_to_enrol": (
            []
            if request.path.startswith("/accounts/") or mfa_satisfied(user)
            else mfa_roles_of(user)
        ),
    }
