"""Okta's org authorization server as an OpenID Connect issuer, for "Sign in with Okta".

Discovery, authorize (a tiny sign-in page: type a person's login, no password), the code grant
with PKCE (codes are single use), RS256 id_tokens signed with a key made on first use and
published as a JWKS, and userinfo. The issuer is the org URL itself (CONTRACTS.md §1.5 D).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from connections.sandbox import auth
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp, oauth_error

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()  # below /okta, outside /api/v1
AUTHORIZE, KEYS, USERINFO = "/oauth2/v1/authorize", "/oauth2/v1/keys", "/oauth2/v1/userinfo"
CODE_TTL = 60
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def sign_in_app(creds: dict) -> tuple[str, str]:
    """The (client id, client secret) of the portal's OIDC web app, derived from the credentials."""
    seed = hashlib.sha256(("sign-in:" + creds["okta"]["api_token"]).encode()).hexdigest()
    return f"0oa{seed[:14]}697", seed[14:54]


def issuer(req: Request) -> str:
    return f"{req.base_url}/okta"


@router.add("GET", "/.well-known/openid-configuration")
@router.add("GET", "/.well-known/oauth-authorization-server")
def discovery(app: App, req: Request) -> Resp:
    """The org authorization server's metadata (Okta's OrgASOidcMetadata shape)."""
    iss = issuer(req)
    return Resp(
        200,
        {
            "issuer": iss,
            "authorization_endpoint": iss + AUTHORIZE,
            "token_endpoint": iss + "/oauth2/v1/token",
            "userinfo_endpoint": iss + USERINFO,
            "jwks_uri": iss + KEYS,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "okta.users.read"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email"]
            + ["email_verified", "name", "given_name", "family_name", "preferred_username"],
            "code_challenge_methods_supported": ["S256"],
            "dpop_signing_alg_values_supported": ["RS256", "ES256"],
        },
    )


def _signing_key(app: App) -> rsa.RSAPrivateKey:
    with app.state.lock:
        key = app.state.signing_keys.get("okta")
        if key is None:
            key = app.state.signing_keys["okta"] = rsa.generate_private_key(65537, 2048)
    assert isinstance(key, rsa.RSAPrivateKey)  # noqa: S101
    return key


def _kid(app: App) -> str:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(_signing_key(app).public_key(), as_dict=True)
    return hashlib.sha256(jwk["n"].encode()).hexdigest()[:16]


@router.add("GET", KEYS)
def keys(app: App, req: Request) -> Resp:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(_signing_key(app).public_key(), as_dict=True)
    return Resp(200, {"keys": [{**jwk, "kid": _kid(app), "alg": "RS256", "use": "sig"}]})


# --- authorize: a tiny sign-in page ------------------------------------------------------------
def _problem(app: App, params: dict[str, str]) -> str | None:
    """Why this authorize request cannot go on (an error page, as Okta shows), or None."""
    if params.get("client_id") != sign_in_app(app.keys.creds)[0]:
        return "invalid_client: the client_id is not a known app."
    target = urlsplit(params.get("redirect_uri", ""))
    if target.scheme not in ("http", "https") or target.hostname not in LOOPBACK:
        return "invalid_request: the redirect_uri is not registered (the sandbox: loopback only)."
    if params.get("response_type") != "code":
        return "unsupported_response_type: only the code flow is supported."
    if "openid" not in params.get("scope", "").split():
        return "invalid_scope: the scope must include openid."
    if params.get("code_challenge") and params.get("code_challenge_method") != "S256":
        return "invalid_request: PKCE needs code_challenge_method S256."
    return None


def _page(req: Request, params: dict[str, str], status: int = 200, message: str = "") -> Resp:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k != "login"
    )
    note = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Sandbox Okta sign-in"
        "</title></head><body><main><h1>Sandbox Okta sign-in</h1>" + note + f'<form method="post"'
        f' action="{html.escape(issuer(req) + AUTHORIZE)}">{hidden}<label>Okta login <input name="login" '
        'autocomplete="username"></label> <button type="submit">Sign in</button></form>'
        "</main></body></html>"
    )
    return Resp(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


@router.add("GET", AUTHORIZE)
def authorize_page(app: App, req: Request) -> Resp:
    params = {k: v[0] for k, v in req.query.items()}
    problem = _problem(app, params)
    return _page(req, params) if problem is None else _error_page(problem)


@router.add("POST", AUTHORIZE)
def authorize(app: App, req: Request) -> Resp:
    """Sign a person in by login; send the browser back with a single-use code."""
    params = req.form()
    problem = _problem(app, params)
    if problem is not None:
        return _error_page(problem)
    idx = app.org.find(params.get("login", ""))
    if idx is None or not app.state.okta_exists(idx) or app.state.okta_status(idx) != "ACTIVE":
        return _page(req, params, 401, "Unable to sign in: no active Okta user with this login.")
    code = secrets.token_urlsafe(24)
    with app.state.lock:
        app.state.codes[code] = {
            "idx": idx,
            "exp": time.time() + CODE_TTL,
            **{k: params.get(k, "") for k in ("client_id", "redirect_uri", "nonce", "scope")},
            "challenge": params.get("code_challenge", ""),
        }
    query = urlencode({"code": code, "state": params.get("state", "")})
    sep = "&" if "?" in params["redirect_uri"] else "?"
    return Resp(302, b"", {"Location": f"{params['redirect_uri']}{sep}{query}"})


def _error_page(problem: str) -> Resp:
    body = (
        f"<!doctype html><title>Okta error</title><h1>400 Bad Request</h1><p>{html.escape(problem)}"
    )
    return Resp(400, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


# --- token: the authorization code grant --------------------------------------------------------
def code_grant(app: App, req: Request, form: dict[str, str]) -> Resp:
    """POST /oauth2/v1/token with grant_type=authorization_code: tokens and an RS256 id_token."""
    client_id, secret = sign_in_app(app.keys.creds)
    given_id, given_secret = _client_credentials(req, form)
    if given_id != client_id or not hmac.compare_digest(given_secret, secret):
        return oauth_error(401, "invalid_client", "Client authentication failed.")
    with app.state.lock:
        grant = app.state.codes.pop(form.get("code", ""), None)
    if (
        grant is None
        or grant["exp"] < time.time()
        or grant["client_id"] != client_id
        or grant["redirect_uri"] != form.get("redirect_uri")
    ):
        return oauth_error(
            400, "invalid_grant", "The authorization code is invalid or has expired."
        )
    if grant["challenge"] and _s256(form.get("code_verifier", "")) != grant["challenge"]:
        return oauth_error(400, "invalid_grant", "PKCE verification failed.")
    scopes = grant["scope"].split()
    access_token, ttl = auth.issue(app, "okta", scopes, oidc_idx=grant["idx"])
    now = int(time.time())
    claims = {
        **_claims(app, grant["idx"], scopes),
        "ver": 1,
        "iss": issuer(req),
        "aud": client_id,
        "iat": now,
        "exp": now + 3600,
        "jti": "ID." + secrets.token_urlsafe(16),
        "amr": ["pwd"],
        "auth_time": now,
        **({"nonce": grant["nonce"]} if grant["nonce"] else {}),
    }
    id_token = jwt.encode(claims, _signing_key(app), "RS256", headers={"kid": _kid(app)})
    body = {"token_type": "Bearer", "expires_in": ttl, "access_token": access_token}
    return Resp(200, {**body, "scope": " ".join(scopes), "id_token": id_token})


def _client_credentials(req: Request, form: dict[str, str]) -> tuple[str, str]:
    header = req.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return user, password
    return form.get("client_id", ""), form.get("client_secret", "")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _claims(app: App, idx: int, scopes: list[str]) -> dict[str, Any]:
    org = app.org
    claims: dict[str, Any] = {"sub": org.ids.okta_user.make(idx)}
    if "email" in scopes:
        claims["email"] = org.email[idx]
        claims["email_verified"] = app.state.person(idx).okta_email_verified
    if "profile" in scopes:
        claims.update(
            name=f"{org.first[idx]} {org.last[idx]}",
            given_name=org.first[idx],
            family_name=org.last[idx],
            preferred_username=org.email[idx],
            locale="en-US",
        )
    return claims


@router.add("GET", USERINFO)
def userinfo(app: App, req: Request) -> Resp:
    header = req.headers.get("authorization", "")
    info = app.state.tokens.get(header[7:].strip()) if header.startswith("Bearer ") else None
    if info is None or "oidc_idx" not in info or info["exp"] < time.time():
        return Resp(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return Resp(200, _claims(app, info["oidc_idx"], sorted(info["scopes"])))
