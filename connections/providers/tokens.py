"""Access tokens: a per-process cache, and the private keys that sign token requests."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connections.providers.errors import config_error
from connections.types import System

TOKEN_EXPIRY_MARGIN = 60.0  # drop a cached token this many seconds before it expires


class TokenCache:
    """Per-process access tokens, keyed by system, connection id and secret version."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, int], tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._fetching: dict[tuple[str, str, int], threading.Lock] = {}

    def get(self, key: tuple[str, str, int]) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
        if entry and entry[1] > time.monotonic():
            return entry[0]
        return None

    def put(self, key: tuple[str, str, int], token: str, expires_in: float) -> None:
        lifetime = max(0.0, expires_in - TOKEN_EXPIRY_MARGIN)
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + lifetime)

    def get_or_fetch(
        self, key: tuple[str, str, int], fetch: Callable[[], tuple[str, float]]
    ) -> str:
        """The cached token, or one `fetch()`ed now (token, seconds it lives). One fetch per key
        at a time: threads that find no token while another fetches wait for it and reuse it,
        rather than each asking the token endpoint (with DPoP, a burst of token requests meets
        nonce challenges that overtake each other)."""
        token = self.get(key)
        if token is not None:
            return token
        with self._lock:
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:
            token = self.get(key)
            if token is None:
                token, expires_in = fetch()
                self.put(key, token, expires_in)
            return token

    def export(self) -> list[tuple[tuple[str, str, int], str, float]]:
        """The live tokens as (key, token, seconds until dropped), to hand to another process."""
        now = time.monotonic()
        with self._lock:
            return [(k, t, until - now) for k, (t, until) in self._tokens.items() if until > now]

    def adopt(self, entries: list[tuple[tuple[str, str, int], str, float]]) -> None:
        """Keep tokens another process fetched (`export`), each until the moment it would drop it."""
        now = time.monotonic()
        with self._lock:
            for key, token, seconds in entries:
                if seconds > 0:
                    self._tokens[key] = (token, now + seconds)

    def drop(self, key: tuple[str, str, int]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def __repr__(self) -> str:
        return f"<TokenCache {len(self._tokens)} tokens>"


TOKEN_CACHE = TokenCache()


@functools.lru_cache(maxsize=16)
def signing_key(pem: str, system: System) -> tuple[Any, str]:
    """Load a PEM private key; return it with its JWS algorithm (RS256 or ES256/384/512).

    Kept per process (keyed by the PEM itself, so a new key is loaded anew): loading an RSA key
    checks it, ~30 ms, which every token request paid."""
    try:
        key = serialization.load_pem_private_key(str(pem).encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise config_error(system, "the stored private key is not a readable PEM key.") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key, {256: "ES256", 384: "ES384", 521: "ES512"}.get(key.curve.key_size, "ES256")
    raise config_error(system, "the stored private key must be RSA or EC.")
