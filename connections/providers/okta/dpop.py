"""DPoP (RFC 9449) for the Okta service app: the connection's key pair and one proof per request.

The key is an EC P-256 pair made by the portal when the connection is saved (Okta binds the token
to whatever public key the first proof carries: nothing is registered in Okta), stored encrypted
with the connection's other secrets. Every proof is a new JWT (fresh `jti`, `iat` now), signed with
PyJWT: `typ: dpop+jwt`, the public JWK in the header; `htm`, `htu` (no query or fragment), `ath`
on API calls, `nonce` once a server issued one (CONTRACTS.md §1.5 C).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connections.providers.tokens import signing_key
from connections.types import System

SECRET_KEY = "dpop_private_key_pem"  # noqa: S105 - the name of a secret field, not a secret


def new_key_pem() -> str:
    """A fresh EC P-256 private key (PKCS#8 PEM) for a connection's DPoP proofs."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def token_hash(access_token: str) -> str:
    """`ath`: base64url (no padding) of SHA-256 over the ASCII access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def htu(url: str) -> str:
    """The request URL as a proof names it: without query and fragment (RFC 9449 §4.2)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class DpopSigner:
    """Makes proofs with one connection's DPoP key; remembers the servers' latest nonces."""

    def __init__(self, pem: str, system: System = System.OKTA) -> None:
        self._key, self.algorithm = signing_key(pem, system)
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        public = algorithm.to_jwk(self._key.public_key(), as_dict=True)
        self.public_jwk = {
            k: v for k, v in public.items() if k in ("kty", "crv", "x", "y", "n", "e")
        }
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<DpopSigner {self.algorithm}>"

    def nonce(self, server: str) -> str | None:
        with self._lock:
            return self._nonces.get(server)

    def remember_nonce(self, server: str, nonce: str) -> bool:
        """Keep the nonce a server (\"token\" or \"api\") sent; True when it is a new value."""
        nonce = nonce.strip()
        with self._lock:
            if not nonce or self._nonces.get(server) == nonce:
                return False
            self._nonces[server] = nonce
            return True

    def proof(self, method: str, url: str, *, server: str, access_token: str | None = None) -> str:
        """A new proof JWT for one request (never reused: a fresh jti every time)."""
        claims: dict[str, Any] = {
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(time.time()),
            "jti": uuid.uuid4().hex,
        }
        nonce = self.nonce(server)
        if nonce:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["ath"] = token_hash(access_token)
        headers = {"typ": "dpop+jwt", "jwk": self.public_jwk}
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)
