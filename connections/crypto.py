"""Encryption of connector secrets with MultiFernet, bound to the row and field that hold them."""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from connections.exceptions import SecretUnavailable

FORMAT_VERSION = 1


def key_problems(keys: list[str] | tuple[str, ...]) -> list[str]:
    """Words for each malformed key (by position, never the key itself)."""
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            problems.append(f"key #{position} is not url-safe base64")
            continue
        if len(raw) != 32:
            problems.append(f"key #{position} must decode to 32 bytes (got {len(raw)})")
    return problems


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise SecretUnavailable(
            "No encryption key is configured (PORTAL_ENCRYPTION_KEYS): secrets cannot be used."
        )
    if key_problems(keys):
        raise SecretUnavailable("PORTAL_ENCRYPTION_KEYS holds a malformed key.")
    return MultiFernet([Fernet(k) for k in keys])


def _fernet() -> MultiFernet:
    return _multifernet(tuple(settings.PORTAL_ENCRYPTION_KEYS))


def looks_encrypted(value: str) -> bool:
    """True when `value` is a token our keys can open (guards against encrypting twice)."""
    if not isinstance(value, str) or not value.startswith("gAAAAA"):
        return False
    try:
        _fernet().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError, SecretUnavailable):
        return False
    return True


def encrypt_secret(data: dict[str, Any], *, bind: str) -> str:
    """Encrypt a dict of secret values under the first key, bound to `bind` ("<row id>:<field>")."""
    if not isinstance(data, dict):
        raise TypeError("A secret must be a dict of values.")
    for value in data.values():
        if looks_encrypted(value):
            raise ValueError("Refusing to encrypt a value that is already encrypted.")
    payload = json.dumps({"v": FORMAT_VERSION, "bind": bind, "data": data}, sort_keys=True)
    return _fernet().encrypt(payload.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str, *, bind: str) -> dict[str, Any]:
    """Decrypt and check the binding; raise SecretUnavailable (without details) on any problem."""
    if not token:
        raise SecretUnavailable("No secret is stored for this connection.")
    try:
        raw = _fernet().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        raise SecretUnavailable(
            "The stored secret cannot be decrypted with the configured keys "
            "(corrupt, or encrypted under a key that is no longer listed). Enter it again."
        ) from None
    try:
        payload = json.loads(raw)
    except ValueError:
        raise SecretUnavailable("The stored secret is not in a known format.") from None
    if not isinstance(payload, dict) or payload.get("v") != FORMAT_VERSION:
        raise SecretUnavailable("The stored secret is not in a known format.")
    if payload.get("bind") != bind:
        raise SecretUnavailable(
            "The stored secret belongs to another connection or field and was refused."
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        raise SecretUnavailable("The stored secret is not in a known format.")
    return data
