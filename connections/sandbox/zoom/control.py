"""What the control API shows of Zoom: a person's user status and SSO tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data

if TYPE_CHECKING:
    from connections.sandbox.app import App
    from connections.sandbox.state import PersonState


def zoom_view(app: App, idx: int, p: PersonState) -> dict | None:
    """The person's Zoom user, or None when they have none."""
    if not app.org.has(idx, data.F_ZOOM):
        return None
    return {
        "id": app.org.ids.zoom_user.make(idx),
        "status": p.zoom_status,
        "sso_tokens": p.zoom_sso_tokens,
    }
