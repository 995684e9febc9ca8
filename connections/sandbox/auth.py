"""Token endpoints (Okta private_key_jwt, Google JWT bearer, Zoom account credentials, Graph) and API checks."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from connections.sandbox import data
from connections.sandbox.web import (
    BadBody,
    Request,
    Resp,
    forbidden,
    google_scope_denied,
    oauth_error,
    unauthorized,
)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GOOGLE_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_SCOPES = {
    f"https://www.googleapis.com/auth/admin.directory.{s}"
    for s in (
        "user",
        "user.readonly",
        "user.security",
        "device.mobile",
        "device.mobile.action",
        "device.mobile.readonly",
    )
}
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ZOOM_SCOPES = "user:read:admin user:write:admin"
LEEWAY = 30


class Keys:
    """Public keys and secrets the sandbox checks credentials against."""

    def __init__(self, creds: dict):
        self.creds = creds
        self.okta_public = _public_from_pem(creds["okta"]["private_key_pem"])
        self.google_public = _public_from_pem(creds["google"]["service_account"]["private_key"])
        cert = x509.load_pem_x509_certificate(creds["graph"]["certificate_pem"].encode())
        self.graph_public = cert.public_key()
        self.graph_thumbprints = {creds["graph"]["thumbprint_sha256"], _x5t_sha1(cert)}


def _public_from_pem(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None).public_key()


def _x5t_sha1(cert) -> str:
    from cryptography.hazmat.primitives import hashes

    return base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()  # noqa: S303


def _token_urls(req: Request, suffix: str) -> list[str]:
    host = req.headers.get("host", "")
    return [f"http://{host}{suffix}", f"{req.base_url}{suffix}"]


def _issue(app, system: str, scopes: list[str], **extra) -> tuple[str, int]:
    ttl = app.state.token_ttl or (3599 if system == "graph" else 3600)
    token = f"sbx{system[:2]}." + secrets.token_urlsafe(32)
    with app.state.lock:
        app.state.tokens[token] = {
            "system": system,
            "exp": time.time() + ttl,
            "scopes": set(scopes),
            **extra,
        }
    return token, ttl


def _form(req: Request) -> dict | Resp:
    try:
        return req.form()
    except BadBody:
        return oauth_error(
            400, "invalid_request", "The request must be application/x-www-form-urlencoded."
        )


def _decode(assertion: str, key, audiences: list[str], algorithms: list[str]) -> dict:
    return jwt.decode(
        assertion,
        key,
        algorithms=algorithms,
        audience=audiences,
        leeway=LEEWAY,
        options={"require": ["exp", "iss", "sub", "aud"]},
    )


def _replayed(app, jti: str | None, exp: float) -> bool:
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


def _jwt_problem(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "expired"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "audience"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return "claims"
    return "signature"


OKTA_MESSAGES = {
    "expired": "The client_assertion token is expired.",
    "audience": "The audience [aud] claim in the JWT is invalid. The audience must be the token endpoint URL.",
    "claims": "The client_assertion token is missing a required claim.",
    "signature": "The client_assertion signature is invalid.",
}


def okta_token(app, req: Request) -> Resp:
    """POST /okta/oauth2/v1/token: client_credentials with private_key_jwt."""
    form = _form(req)
    if isinstance(form, Resp):
        return form
    okta = app.keys.creds["okta"]
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
    if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
        return oauth_error(
            400,
            "invalid_request",
            "The client_assertion_type and client_assertion parameters are required.",
        )
    problem = _check_okta_assertion(app, req, form, okta)
    if problem:
        return oauth_error(401, "invalid_client", problem)
    requested = form.get("scope", "").split()
    if not requested:
        return oauth_error(
            400,
            "invalid_scope",
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
        )
    if not set(requested) <= set(okta["scopes"]):
        return oauth_error(
            400,
            "invalid_scope",
            "One or more scopes are not configured for the authorization server resource.",
        )
    token, ttl = _issue(app, "okta", requested)
    return Resp(
        200,
        {
            "token_type": "Bearer",
            "expires_in": ttl,
            "access_token": token,
            "scope": " ".join(requested),
        },
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _check_okta_assertion(app, req: Request, form: dict, okta: dict) -> str | None:
    assertion = form["client_assertion"]
    try:
        header = jwt.get_unverified_header(assertion)
        if header.get("kid") not in (None, okta["key_id"]):
            return OKTA_MESSAGES["signature"]
        audiences = _token_urls(req, "/okta/oauth2/v1/token")
        claims = _decode(assertion, app.keys.okta_public, audiences, ["RS256", "RS384", "RS512"])
    except jwt.PyJWTError as exc:
        return OKTA_MESSAGES[_jwt_problem(exc)]
    if claims["iss"] != okta["client_id"] or claims["sub"] != okta["client_id"]:
        return "The client_assertion token's iss and sub must both be the client_id."
    if form.get("client_id") not in (None, okta["client_id"]):
        return "The client_id does not match the client_assertion."
    if claims["exp"] > time.time() + 3600 + LEEWAY:
        return "The client_assertion token has an expiration too far into the future."
    if _replayed(app, claims.get("jti"), claims["exp"]):
        return "The client_assertion token has already been used (jti replay)."
    return None


def google_token(app, req: Request) -> Resp:
    """POST /google/token: service-account JWT bearer with domain-wide delegation."""
    form = _form(req)
    if isinstance(form, Resp):
        return form
    if form.get("grant_type") != GOOGLE_GRANT or not form.get("assertion"):
        return oauth_error(
            400, "unsupported_grant_type", "Invalid grant_type: " + form.get("grant_type", "")
        )
    sa = app.keys.creds["google"]["service_account"]
    audiences = _token_urls(req, "/google/token") + [sa["token_uri"]]
    try:
        claims = _decode(form["assertion"], app.keys.google_public, audiences, ["RS256"])
    except jwt.PyJWTError as exc:
        problem = _jwt_problem(exc)
        if problem in ("expired", "claims"):
            return oauth_error(
                400,
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
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
        claims["exp"] - claims.get("iat", time.time()) > 3600 + LEEWAY
        or claims["exp"] > time.time() + 3600 + LEEWAY
    ):
        return oauth_error(
            400,
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        )
    scopes = str(claims.get("scope", "")).split()
    if not scopes:
        return oauth_error(400, "invalid_scope", "Empty or missing scope not allowed.")
    if not set(scopes) <= GOOGLE_SCOPES:
        return oauth_error(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        )
    idx = app.org.find(claims["sub"])
    if idx is None or not app.org.has(idx, data.F_GOOGLE):
        return oauth_error(400, "invalid_grant", "Invalid email or User ID")
    admin = app.org.has(idx, data.F_GADMIN) or app.org.has(idx, data.F_ADMINS)
    token, ttl = _issue(app, "google", scopes, admin=admin, sub=claims["sub"])
    return Resp(200, {"access_token": token, "expires_in": ttl, "token_type": "Bearer"})


def zoom_token(app, req: Request) -> Resp:
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
    token, ttl = _issue(app, "zoom", ZOOM_SCOPES.split())
    body = {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ttl,
        "scope": ZOOM_SCOPES,
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


def _aad(status: int, error: str, code: int, text: str) -> Resp:
    return oauth_error(
        status,
        error,
        f"AADSTS{code}: {text}",
        error_codes=[code],
        timestamp=time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        trace_id=secrets.token_hex(16),
        correlation_id=secrets.token_hex(16),
    )


def graph_token(app, req: Request) -> Resp:
    """POST /graph/login/{tenant}/oauth2/v2.0/token: client secret or certificate assertion."""
    graph = app.keys.creds["graph"]
    form = _form(req)
    if isinstance(form, Resp):
        return form
    if req.params.get("tenant") != graph["tenant_id"]:
        return _aad(
            400, "invalid_request", 90002, f"Tenant '{req.params.get('tenant')}' not found."
        )
    if form.get("grant_type") != "client_credentials":
        return _aad(
            400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
        )
    if form.get("client_id") != graph["client_id"]:
        return _aad(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{form.get('client_id')}' was not found in the directory.",
        )
    if form.get("scope") != GRAPH_SCOPE:
        return _aad(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed.",
        )
    problem = _graph_client_auth(app, req, form, graph)
    if problem:
        return problem
    token, ttl = _issue(
        app, "graph", ["User.ReadWrite.All", "User.RevokeSessions.All", "Device.ReadWrite.All"]
    )
    return Resp(
        200,
        {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": token},
    )


def _graph_client_auth(app, req: Request, form: dict, graph: dict) -> Resp | None:
    if form.get("client_secret"):
        if hmac.compare_digest(form["client_secret"], graph["client_secret"]):
            return None
        return _aad(401, "invalid_client", 7000215, "Invalid client secret provided.")
    if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
        return _aad(
            400,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    try:
        header = jwt.get_unverified_header(form["client_assertion"])
        if header.get("x5t#S256", header.get("x5t")) not in app.keys.graph_thumbprints:
            return _aad(
                401,
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not found.]",
            )
        audiences = _token_urls(req, f"/graph/login/{req.params['tenant']}/oauth2/v2.0/token")
        claims = _decode(
            form["client_assertion"], app.keys.graph_public, audiences, ["RS256", "PS256"]
        )
    except jwt.PyJWTError as exc:
        code = {"expired": 700024, "audience": 700016}.get(_jwt_problem(exc), 700027)
        return _aad(
            401,
            "invalid_client",
            code,
            f"Client assertion failed validation ({_jwt_problem(exc)}).",
        )
    if claims["iss"] != graph["client_id"] or claims["sub"] != graph["client_id"]:
        return _aad(
            401, "invalid_client", 700023, "Client assertion iss and sub must be the client id."
        )
    if _replayed(app, claims.get("jti"), claims["exp"]):
        return _aad(
            401, "invalid_client", 7000215, "Client assertion has already been used (jti replay)."
        )
    return None


def check_api(app, req: Request, scopes: tuple[str, ...]) -> Resp | None:
    """Authenticate an API call; None when allowed, else the API's 401/403."""
    header = req.headers.get("authorization", "")
    system = req.system
    if not header:
        return unauthorized(system, missing=True)
    if system == "okta" and header.startswith("SSWS "):
        if hmac.compare_digest(header[5:].strip(), app.keys.creds["okta"]["api_token"]):
            req.auth = {"system": "okta", "ssws": True}
            return None
        return unauthorized(system)
    scheme, _, value = header.partition(" ")
    info = app.state.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    if not info or info["system"] != system or info["exp"] < time.time():
        return unauthorized(system)
    req.auth = info
    return _scope_check(system, info, scopes)


def _scope_check(system: str, info: dict, scopes: tuple[str, ...]) -> Resp | None:
    if not scopes:
        return None
    granted = info["scopes"]
    if system == "okta":
        implied = granted | {s.replace(".manage", ".read") for s in granted}
        return None if any(s in implied for s in scopes) else forbidden("okta")
    if system == "google":
        full = {f"https://www.googleapis.com/auth/admin.directory.{s}" for s in scopes}
        if not full & granted:
            return google_scope_denied()
        return None if info.get("admin") else forbidden("google")
    return None
