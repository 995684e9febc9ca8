"""Google's token endpoint (service-account JWT bearer, domain-wide delegation) and its API authentication."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import jwt

from connections.sandbox import auth, data
from connections.sandbox.google.errors import forbidden, scope_denied, unauthorized
from connections.sandbox.web import Request, Resp, oauth_error

if TYPE_CHECKING:
    from connections.sandbox.app import App

TOKEN_PATH = "/token"  # noqa: S105 - a path, not a secret
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE_PREFIX = "https://www.googleapis.com/auth/admin.directory."
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"
LEGACY_AUDIENCE = "https://accounts.google.com/o/oauth2/token"
TOO_LONG = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."


def load_keys(creds: dict) -> Any:
    """The service account's public key, which assertions must be signed with."""
    return auth.public_from_pem(creds["google"]["service_account"]["private_key"])


def token_endpoint(app: App, req: Request) -> Resp:
    """POST /google/token: service-account JWT bearer with domain-wide delegation."""
    form = auth.token_form(req)
    if isinstance(form, Resp):
        return form
    if form.get("grant_type") != GRANT or not form.get("assertion"):
        return oauth_error(
            400, "unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type", "")
        )
    claims = _claims(app, req, form["assertion"])
    if isinstance(claims, Resp):
        return claims
    scopes = str(claims.get("scope", "")).split()
    if not scopes:
        return oauth_error(400, "invalid_scope", "Empty or missing scope not allowed.")
    if not set(scopes) <= set(app.state.apps["google"]["scopes"]):
        return oauth_error(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        )
    idx = app.org.find(claims["sub"])
    if idx is None or not app.org.has(idx, data.F_GOOGLE):
        return oauth_error(400, "invalid_grant", "Invalid email or User ID")
    admin = app.org.has(idx, data.F_GADMIN) or app.org.has(idx, data.F_ADMINS)
    access_token, ttl = auth.issue(app, "google", scopes, admin=admin, sub=claims["sub"])
    return Resp(200, {"access_token": access_token, "expires_in": ttl, "token_type": "Bearer"})


def _claims(app: App, req: Request, assertion: str) -> dict | Resp:
    """The assertion's verified claims, or Google's invalid_grant."""
    sa = app.keys.creds["google"]["service_account"]
    # Google's documented audience (what google-auth always signs, CONTRACTS.md §2.4), the
    # legacy one older key files name, and this sandbox's own URL; nothing else.
    audiences = auth.token_urls(req, "/google" + TOKEN_PATH) + [
        sa["token_uri"],
        GOOGLE_AUDIENCE,
        LEGACY_AUDIENCE,
    ]
    try:
        if jwt.get_unverified_header(assertion).get("kid") not in (None, sa["private_key_id"]):
            raise jwt.InvalidSignatureError("unknown key id")
        claims = auth.decode(assertion, app.keys["google"], audiences, ["RS256"])
    except jwt.PyJWTError as exc:
        problem = auth.jwt_problem(exc)
        if problem in ("expired", "claims"):
            return oauth_error(400, "invalid_grant", TOO_LONG)
        return oauth_error(
            400,
            "invalid_grant",
            "Invalid JWT Signature."
            if problem == "signature"
            else "Invalid JWT: audience is not the token endpoint.",
        )
    if claims["iss"] != sa["client_email"]:
        return oauth_error(400, "invalid_grant", "Invalid grant: account not found")
    if (
        claims["exp"] - claims.get("iat", time.time()) > 3600 + auth.LEEWAY
        or claims["exp"] > time.time() + 3600 + auth.LEEWAY
    ):
        return oauth_error(400, "invalid_grant", TOO_LONG)
    return claims


def _allow(info: dict, scopes: tuple[str, ...]) -> Resp | None:
    """One of the route's scopes, and a delegated subject who is an administrator."""
    if not {SCOPE_PREFIX + s for s in scopes} & info["scopes"]:
        return scope_denied()
    return None if info.get("admin") else forbidden()


authenticate = auth.bearer(unauthorized, _allow)
