"""Zoom's token endpoint (account_credentials, HTTP Basic client authentication) and its API authentication."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING

from connections.sandbox import auth
from connections.sandbox.web import Request, Resp, oauth_error
from connections.sandbox.zoom.errors import unauthorized

if TYPE_CHECKING:
    from connections.sandbox.app import App

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
SCOPES = "user:read:admin user:write:admin"


def token_endpoint(app: App, req: Request) -> Resp:
    """POST /zoom/oauth/token: account_credentials with HTTP Basic client authentication."""
    zoom = app.keys.creds["zoom"]
    args = dict(req.query)
    if req.body and req.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        args.update({k: [v] for k, v in req.form().items()})
    if not _basic_ok(
        req.headers.get("authorization", ""), zoom["client_id"], zoom["client_secret"]
    ):
        return oauth_error(
            401,
            "invalid_client",
            "Invalid client_id or client_secret",
            reason="Invalid client_id or client_secret",
        )
    if args.get("grant_type", [""])[0] != "account_credentials":
        return oauth_error(
            400, "unsupported_grant_type", "Unsupported grant type", reason="Unsupported grant type"
        )
    if args.get("account_id", [""])[0] != zoom["account_id"]:
        return oauth_error(
            400, "invalid_request", "Invalid account_id", reason="Invalid account_id"
        )
    access_token, ttl = auth.issue(app, "zoom", SCOPES.split())
    body = {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": ttl,
        "scope": SCOPES,
        "api_url": f"{req.base_url}/zoom",
    }
    return Resp(200, body)


def _basic_ok(header: str, user: str, password: str) -> bool:
    if not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    given_user, _, given_password = decoded.partition(":")
    return hmac.compare_digest(given_user, user) and hmac.compare_digest(given_password, password)


authenticate = auth.bearer(unauthorized)  # the token carries every scope the sandbox serves
