"""Keeps the Okta event hook's secret readable when the encryption keys rotate (issue 14):
`connections` re-encrypts its own secrets and says so (`connection_changed`, "keys_rotated");
the hook's secret, kept by offboarding, is re-encrypted in the same transaction."""

from __future__ import annotations

from typing import Any

from connections.signals import connection_changed


def on_keys_rotated(sender: Any, connection: Any = None, action: str = "", **kwargs: Any) -> None:
    if action != "keys_rotated" or connection is None:
        return
    from offboarding.models import EventHook

    # Inside the rotation's transaction: a secret that cannot be read (SecretUnavailable) rolls
    # the whole rotation back, as a connection's own secret does.
    hook = EventHook.objects.select_for_update().filter(connection_id=connection.pk).first()
    if hook is not None and hook.has_secret:
        hook.set_secret(hook.decrypt_secret())
        hook.save(update_fields=["secret_ciphertext"])


def connect() -> None:
    connection_changed.connect(on_keys_rotated, dispatch_uid="offboarding.hooks.keys_rotated")
