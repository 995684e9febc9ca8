"""Auth helpers several systems share: issued tokens, JWT assertion checks, Bearer checks on API calls."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization

from connections.sandbox.web import BadBody, Request, Resp, oauth_error

if TYPE_CHECKING:
    from connections.sandbox.app import App

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LEEWAY = 30

ScopeCheck = Callable[[dict, tuple[str, ...]], Resp | None]
Authenticate = Callable[["App", Request, tuple[str, ...]], Resp | None]


class Keys:
    """The credentials the sandbox started with, and each system's verification keys from them."""

    def __init__(self, creds: dict, loaders: Mapping[str, Callable[[dict], Any]]):
        self.creds = creds
        self.by_system = {system: load(creds) for system, load in loaders.items()}

    def __getitem__(self, system: str) -> Any:
        return self.by_system[system]


def public_from_pem(pem: str) -> Any:
    """The public half of a PEM private key."""
    return serialization.load_pem_private_key(pem.encode(), password=None).public_key()


def token_urls(req: Request, suffix: str) -> list[str]:
    """The URLs a client may have used for this token endpoint (the audiences to accept)."""
    host = req.headers.get("host", "")
    return [f"http://{host}{suffix}", f"{req.base_url}{suffix}"]


def issue(
    app: App, system: str, scopes: list[str], lifetime: int = 3600, **extra: object
) -> tuple[str, int]:
    """Record a new access token; returns (token, seconds it lasts, unless the control API set a TTL)."""
    ttl = app.state.token_ttl or lifetime
    token = f"sbx{system[:2]}." + secrets.token_urlsafe(32)
    with app.state.lock:
        app.state.tokens[token] = {
            "system": system,
            "exp": time.time() + ttl,
            "scopes": set(scopes),
            **extra,
        }
    return token, ttl


def token_form(req: Request) -> dict[str, str] | Resp:
    """The token request's form, or the OAuth error for another content type."""
    try:
        return req.form()
    except BadBody:
        return oauth_error(
            400, "invalid_request", "The request must be application/x-www-form-urlencoded."
        )


def decode(assertion: str, key: Any, audiences: list[str], algorithms: list[str]) -> dict:
    """Verify a JWT assertion's signature, audience and exp; raises jwt.PyJWTError."""
    return jwt.decode(
        assertion,
        key,
        algorithms=algorithms,
        audience=audiences,
        leeway=LEEWAY,
        options={"require": ["exp", "iss", "sub", "aud"]},
    )


def replayed(app: App, jti: str | None, exp: float) -> bool:
    """True when this jti was seen before; otherwise remember it until exp."""
    if not jti:
        return False
    now = time.time()
    with app.state.lock:
        if len(app.state.used_jti) > 10000:
            app.state.used_jti = {k: v for k, v in app.state.used_jti.items() if v > now}
        if jti in app.state.used_jti:
            return True
        app.state.used_jti[jti] = exp
    return False


def jwt_problem(exc: jwt.PyJWTError) -> str:
    """What is wrong with an assertion: expired, audience, claims or signature."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "audience"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return "claims"
    return "signature"


def bearer(unauthorized: Callable[[bool], Resp], allow: ScopeCheck | None = None) -> Authenticate:
    """An API check for Bearer tokens this sandbox issued for the system; allow() judges scopes."""

    def authenticate(app: App, req: Request, scopes: tuple[str, ...]) -> Resp | None:
        header = req.headers.get("authorization", "")
        if not header:
            return unauthorized(True)
        scheme, _, value = header.partition(" ")
        info = app.state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if not info or info["system"] != req.system or info["exp"] < time.time():
            return unauthorized(False)
        req.auth = info
        return allow(info, scopes) if allow and scopes else None

    return authenticate
