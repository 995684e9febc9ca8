"""What the control API shows of Microsoft 365: a person's accountEnabled, sessions and devices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso_seconds

if TYPE_CHECKING:
    from connections.sandbox.app import App
    from connections.sandbox.state import PersonState


def graph_view(app: App, idx: int, p: PersonState) -> dict | None:
    """The person's Graph user, or None when they have no Microsoft account."""
    if app.org.has(idx, data.F_NOGRAPH):
        return None
    return {
        "id": app.org.ids.graph_user.make(idx),
        "accountEnabled": p.graph_enabled,
        "onPremisesSyncEnabled": app.org.has(idx, data.F_HYBRID),
        "signInSessionsValidFromDateTime": iso_seconds(p.graph_sessions_from),
        "devices": {
            app.org.ids.graph_device.make(idx, k): e for k, e in sorted(p.graph_devices.items())
        },
    }
