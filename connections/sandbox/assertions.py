"""Client-side helpers that build the signed assertions each token endpoint expects (for tests and demos)."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connections.sandbox.auth import JWT_BEARER
from connections.sandbox.google.token import GRANT as GOOGLE_GRANT


def okta_assertion(creds: dict, token_url: str, **claims) -> str:
    """A private_key_jwt client assertion for the Okta org token endpoint."""
    okta = creds["okta"]
    now = int(time.time())
    body = {
        "iss": okta["client_id"],
        "sub": okta["client_id"],
        "aud": token_url,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims)
    return jwt.encode(
        body, okta["private_key_pem"], algorithm="RS256", headers={"kid": okta["key_id"]}
    )


def okta_form(creds: dict, token_url: str, scopes: list[str] | None = None, **claims) -> dict:
    scopes = scopes if scopes is not None else creds["okta"]["scopes"]
    return {
        "grant_type": "client_credentials",
        "scope": " ".join(scopes),
        "client_assertion_type": JWT_BEARER,
        "client_assertion": okta_assertion(creds, token_url, **claims),
    }


def google_assertion(
    creds: dict, token_url: str, scopes: list[str], sub: str | None = None, **claims
) -> str:
    """A service-account JWT with domain-wide delegation (sub = the admin to impersonate)."""
    sa = creds["google"]["service_account"]
    now = int(time.time())
    body = {
        "iss": sa["client_email"],
        "sub": sub or creds["google"]["admin_email"],
        "scope": " ".join(scopes),
        "aud": token_url,
        "iat": now,
        "exp": now + 3600,
    }
    body.update(claims)
    return jwt.encode(
        body, sa["private_key"], algorithm="RS256", headers={"kid": sa["private_key_id"]}
    )


def google_form(
    creds: dict, token_url: str, scopes: list[str], sub: str | None = None, **claims
) -> dict:
    return {
        "grant_type": GOOGLE_GRANT,
        "assertion": google_assertion(creds, token_url, scopes, sub, **claims),
    }


def graph_assertion(creds: dict, token_url: str, **claims) -> str:
    """A certificate client assertion (x5t#S256 header) for the Entra token endpoint."""
    graph = creds["graph"]
    now = int(time.time())
    body = {
        "iss": graph["client_id"],
        "sub": graph["client_id"],
        "aud": token_url,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims)
    return jwt.encode(
        body,
        graph["private_key_pem"],
        algorithm="PS256",
        headers={"x5t#S256": graph["thumbprint_sha256"], "typ": "JWT"},
    )


def graph_form(creds: dict, token_url: str | None = None, secret: bool = True, **claims) -> dict:
    graph = creds["graph"]
    form = {
        "client_id": graph["client_id"],
        "scope": "https://graph.microsoft.com/.default",
        "grant_type": "client_credentials",
    }
    if secret:
        form["client_secret"] = graph["client_secret"]
    else:
        form["client_assertion_type"] = JWT_BEARER
        form["client_assertion"] = graph_assertion(creds, token_url or "", **claims)
    return form


def dpop_key_pem() -> str:
    """A fresh EC P-256 private key (PEM) for DPoP proofs."""

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def dpop_proof(
    key_pem: str,
    method: str,
    url: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    **overrides,
) -> str:
    """A DPoP proof JWT (RFC 9449) for one request, signed ES256 with the key's public JWK inside."""
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("a DPoP proof key must be an EC private key")
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    claims = {
        "htm": method,
        "htu": url.split("?")[0],
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token is not None:
        digest = hashlib.sha256(access_token.encode()).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    header = {"typ": "dpop+jwt", "jwk": jwk, **overrides.pop("header", {})}
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="ES256", headers=header)
