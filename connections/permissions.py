"""Who may manage connections: signed-in, active members of the "Connection admin" group."""

from __future__ import annotations

from typing import Any

# The Django group (created with the portal's other roles, see offboarding.roles).
CONNECTION_ADMIN_GROUP = "Connection admin"


def can_manage_connections(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.groups.filter(name=CONNECTION_ADMIN_GROUP).exists())
