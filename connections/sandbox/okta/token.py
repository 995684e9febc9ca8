"""Okta's org token endpoint (client_credentials with private_key_jwt) and its API authentication."""

from __future__ import annotations

import hmac
import time
from typing import TYPE_CHECKING, Any

import jwt

from connections.sandbox import auth
from connections.sandbox.okta import dpop, oidc
from connections.sandbox.okta.errors import forbidden, unauthorized
from connections.sandbox.web import Request, Resp, oauth_error

if TYPE_CHECKING:
    from connections.sandbox.app import App

TOKEN_PATH = "/oauth2/v1/token"  # noqa: S105 - a path, not a secret
MESSAGES = {
    "expired": "The client_assertion token is expired.",
    "audience": "The audience [aud] claim in the JWT is invalid. The audience must be the token endpoint URL.",
    "claims": "The client_assertion token is missing a required claim.",
    "signature": "The client_assertion signature is invalid.",
}


def load_keys(creds: dict) -> Any:
    """The public key that client assertions must be signed with."""
    return auth.public_from_pem(creds["okta"]["private_key_pem"])


def token_endpoint(app: App, req: Request) -> Resp:
    """POST /okta/oauth2/v1/token: client_credentials with private_key_jwt, or a sign-in code."""
    form = auth.token_form(req)
    if isinstance(form, Resp):
        return form
    okta = app.keys.creds["okta"]
    if form.get("grant_type") == "authorization_code":  # "Sign in with Okta"
        return oidc.code_grant(app, req, form)
    if form.get("grant_type") != "client_credentials":
        return oauth_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )
    if form.get("client_secret") or req.headers.get("authorization"):
        return oauth_error(
            401, "invalid_client", "Client authentication failed: this client uses private_key_jwt."
        )
    if form.get("client_assertion_type") != auth.JWT_BEARER or not form.get("client_assertion"):
        return oauth_error(
            400,
            "invalid_request",
            "The client_assertion_type and client_assertion parameters are required.",
        )
    problem = _check_assertion(app, req, form, okta)
    if problem:
        return oauth_error(401, "invalid_client", problem)
    binding = dpop.token_binding(app, req, "/okta" + TOKEN_PATH)
    if isinstance(binding, Resp):
        return binding
    requested = form.get("scope", "").split()
    refused = _scope_problem(requested, app.state.okta_app["scopes"])
    if refused:
        return refused
    access_token, ttl = auth.issue(app, "okta", requested, **binding)
    return Resp(
        200,
        {
            "token_type": "DPoP" if binding else "Bearer",
            "expires_in": ttl,
            "access_token": access_token,
            "scope": " ".join(requested),
        },
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _scope_problem(requested: list[str], granted: list[str]) -> Resp | None:
    if not requested:
        return oauth_error(
            400,
            "invalid_scope",
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
        )
    if not set(requested) <= set(granted):
        return oauth_error(
            400,
            "invalid_scope",
            "One or more scopes are not configured for the authorization server resource.",
        )
    return None


def _check_assertion(app: App, req: Request, form: dict, okta: dict) -> str | None:
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
        if header.get("kid") not in (None, okta["key_id"]):
            return MESSAGES["signature"]
        audiences = auth.token_urls(req, "/okta" + TOKEN_PATH)
        claims = auth.decode(assertion, app.keys["okta"], audiences, ["RS256", "RS384", "RS512"])
    except jwt.PyJWTError as exc:
        return MESSAGES[auth.jwt_problem(exc)]
    if claims["iss"] != okta["client_id"] or claims["sub"] != okta["client_id"]:
        return "The client_assertion token's iss and sub must both be the client_id."
    if form.get("client_id") not in (None, okta["client_id"]):
        return "The client_id does not match the client_assertion."
    if claims["exp"] > time.time() + 3600 + auth.LEEWAY:
        return "The client_assertion token has an expiration too far into the future."
    if auth.replayed(app, claims.get("jti"), claims["exp"]):
        return "The client_assertion token has already been used (jti replay)."
    return None


def _allow(info: dict, scopes: tuple[str, ...]) -> Resp | None:
    """Any one of the route's scopes will do; okta.X.manage implies okta.X.read."""
    granted = info["scopes"]
    implied = granted | {s.replace(".manage", ".read") for s in granted}
    return None if any(s in implied for s in scopes) else forbidden()


def authenticate(app: App, req: Request, scopes: tuple[str, ...]) -> Resp | None:
    """An API token (SSWS, every scope) or an OAuth access token with one of the route's scopes.

    `SSWS` is matched with or without a space before the token: Okta's own SDKs send it both
    ways and Okta accepts both. A DPoP-bound token needs the DPoP scheme and a proof (dpop.py).
    """
    header = req.headers.get("authorization", "")
    if not header:
        return unauthorized(True)
    if header[:4].upper() == "SSWS":
        if hmac.compare_digest(header[4:].strip(), app.keys.creds["okta"]["api_token"]):
            req.auth = {"system": "okta", "ssws": True}
            return None
        return unauthorized()
    scheme, _, value = header.partition(" ")
    token = value.strip()
    info = app.state.tokens.get(token) if scheme.lower() in ("bearer", "dpop") else None
    if not info or info["system"] != "okta" or info["exp"] < time.time():
        return unauthorized(False)
    refused = dpop.check_api_call(app, req, scheme.lower(), token, info)
    if refused:
        return refused
    req.auth = info
    return _allow(info, scopes) if scopes else None
