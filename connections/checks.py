"""System checks: an encryption key must be configured and well-formed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from connections.crypto import key_problems


@register(Tags.security)
def check_encryption_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    keys = list(getattr(settings, "PORTAL_ENCRYPTION_KEYS", []) or [])
    messages: list[CheckMessage] = []
    if not keys:
        message = "PORTAL_ENCRYPTION_KEYS is not set: connection secrets cannot be stored or read."
        hint = (
            "Set PORTAL_ENCRYPTION_KEYS (or PORTAL_ENCRYPTION_KEYS_FILE) to one or more Fernet keys, "
            'e.g. from: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
        if settings.DEBUG:
            messages.append(Warning(message, hint=hint, id="connections.W001"))
        else:
            messages.append(Error(message, hint=hint, id="connections.E001"))
    for problem in key_problems(keys):
        messages.append(
            Error(
                f"PORTAL_ENCRYPTION_KEYS: {problem}.",
                hint="Each key is 32 bytes of url-safe base64 (Fernet.generate_key()).",
                id="connections.E002",
            )
        )
    return messages
