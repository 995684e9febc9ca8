"""Reversible, seed-dependent identifiers: every id encodes its owner's index, so no lookup table."""

from __future__ import annotations

import hashlib
import uuid
from typing import Literal, overload

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_SUB = 64  # sub-objects per person (factors, devices, ...) encoded as idx * _SUB + k


def _b62(n: int, width: int) -> str:
    """Fixed-width base62."""
    out = []
    for _ in range(width):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(reversed(out))


def _unb62(text: str) -> int | None:
    n = 0
    for c in text:
        if c not in _INDEX:
            return None
        n = n * 62 + _INDEX[c]
    return n


class Codec:
    """An affine permutation of [0, mod) keyed by seed and kind."""

    def __init__(self, seed: int, kind: str, mod: int):
        digest = hashlib.sha256(f"{seed}:{kind}".encode()).digest()
        self.mod = mod
        self.offset = int.from_bytes(digest[:16], "big") % mod
        mult = int.from_bytes(digest[16:], "big") % mod
        while mult % 2 == 0 or mult % 31 == 0 or mult % 5 == 0:
            mult += 1
        self.mult = mult
        self.inverse = pow(mult, -1, mod)

    def encode(self, n: int) -> int:
        return (n * self.mult + self.offset) % self.mod

    def decode(self, x: int) -> int:
        return ((x - self.offset) * self.inverse) % self.mod


class _IdKind:
    """One kind of id: make(idx[, k]) and parse(text[, sub=True]) are inverse."""

    def _format(self, n: int) -> str:
        raise NotImplementedError

    def _number(self, text: str) -> int | None:
        raise NotImplementedError

    def make(self, idx: int, k: int | None = None) -> str:
        """The id of person idx, or of their k-th sub-object (factor, device, ...)."""
        return self._format(idx if k is None else idx * _SUB + k)

    @overload
    def parse(self, text: str, sub: Literal[False] = False) -> int | None: ...

    @overload
    def parse(self, text: str, sub: Literal[True]) -> tuple[int, int] | None: ...

    def parse(self, text: str, sub: bool = False) -> int | tuple[int, int] | None:
        """The person index (or (index, k) with sub=True), or None when text is not such an id."""
        n = self._number(text)
        if n is None:
            return None
        return divmod(n, _SUB) if sub else n


class OktaIds(_IdKind):
    """Okta-style ids: 3-letter prefix + 14 base62 + '697' (20 characters)."""

    def __init__(self, seed: int, prefix: str):
        self.prefix = prefix
        self.codec = Codec(seed, "okta-" + prefix, 62**14)

    def _format(self, n: int) -> str:
        return f"{self.prefix}{_b62(self.codec.encode(n), 14)}697"

    def _number(self, text: str) -> int | None:
        if len(text) != 20 or not text.startswith(self.prefix) or not text.endswith("697"):
            return None
        raw = _unb62(text[3:17])
        if raw is None or raw >= self.codec.mod:
            return None
        return self.codec.decode(raw)


class DigitIds(_IdKind):
    """Google-style numeric ids (21 digits)."""

    def __init__(self, seed: int, kind: str):
        self.codec = Codec(seed, kind, 10**20)

    def _format(self, n: int) -> str:
        return "1" + f"{self.codec.encode(n):020d}"

    def _number(self, text: str) -> int | None:
        if len(text) != 21 or not text.isdigit() or text[0] != "1":
            return None
        return self.codec.decode(int(text[1:]))


class B62Ids(_IdKind):
    """Opaque base62 ids of a fixed width with an optional prefix (Zoom users, Google devices)."""

    def __init__(self, seed: int, kind: str, width: int, prefix: str = ""):
        self.prefix = prefix
        self.width = width
        self.codec = Codec(seed, kind, 62**width)

    def _format(self, n: int) -> str:
        return self.prefix + _b62(self.codec.encode(n), self.width)

    def _number(self, text: str) -> int | None:
        if len(text) != len(self.prefix) + self.width or not text.startswith(self.prefix):
            return None
        raw = _unb62(text[len(self.prefix) :])
        return None if raw is None else self.codec.decode(raw)


class GuidIds(_IdKind):
    """Microsoft-style GUIDs."""

    def __init__(self, seed: int, kind: str):
        self.codec = Codec(seed, kind, 1 << 128)

    def _format(self, n: int) -> str:
        return str(uuid.UUID(int=self.codec.encode(n)))

    def _number(self, text: str) -> int | None:
        try:
            value = uuid.UUID(text)
        except ValueError:
            return None
        return self.codec.decode(value.int)


class IdSpace:
    """All id kinds for one seed."""

    def __init__(self, seed: int):
        self.okta_user = OktaIds(seed, "00u")
        self.okta_group = OktaIds(seed, "00g")
        self.okta_app = OktaIds(seed, "0oa")
        self.okta_factor = OktaIds(seed, "mfa")
        self.okta_grant = OktaIds(seed, "oag")
        self.okta_device = OktaIds(seed, "guo")
        self.google_user = DigitIds(seed, "google-user")
        self.google_device = B62Ids(seed, "google-device", 22, "AFiQxQ")
        self.zoom_user = B62Ids(seed, "zoom-user", 22)
        self.graph_user = GuidIds(seed, "graph-user")
        self.graph_device = GuidIds(seed, "graph-device")
        self.graph_device_key = GuidIds(seed, "graph-device-key")
