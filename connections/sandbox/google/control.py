"""What the control API shows of Google: a person's suspension, sign-outs, tokens, ASPs and devices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data

if TYPE_CHECKING:
    from connections.sandbox.app import App
    from connections.sandbox.state import PersonState


def google_view(app: App, idx: int, p: PersonState) -> dict | None:
    """The person's Google account, or None when they have none."""
    if not app.org.has(idx, data.F_GOOGLE):
        return None
    return {
        "id": app.org.ids.google_user.make(idx),
        "suspended": p.google_suspended,
        "signed_out_at": p.google_signed_out_at,
        "sign_outs": p.google_signouts,
        "tokens": [data.GOOGLE_CLIENTS[c][1] for c in sorted(p.google_tokens)],
        "asps": sorted(p.google_asps),
        "backup_codes_generation": p.backup_codes_generation,
        "mobile_devices": {
            app.org.ids.google_device.make(idx, k): s for k, s in sorted(p.mobile.items())
        },
        "is_admin": app.org.has(idx, data.F_GADMIN),
    }
