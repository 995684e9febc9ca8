"""Microsoft Entra's token endpoint for Graph (client secret or certificate assertion) and API authentication."""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from typing import TYPE_CHECKING, Any, NamedTuple

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from connections.sandbox import auth
from connections.sandbox.msgraph.errors import unauthorized
from connections.sandbox.web import Request, Resp, oauth_error

if TYPE_CHECKING:
    from connections.sandbox.app import App

SCOPE = "https://graph.microsoft.com/.default"
LIFETIME = 3599


class GraphKeys(NamedTuple):
    """The registered certificate's public key and the thumbprints that name it."""

    public: Any
    thumbprints: set[str]


def load_keys(creds: dict) -> GraphKeys:
    cert = x509.load_pem_x509_certificate(creds["graph"]["certificate_pem"].encode())
    return GraphKeys(cert.public_key(), {creds["graph"]["thumbprint_sha256"], _x5t_sha1(cert)})


def _x5t_sha1(cert: x509.Certificate) -> str:
    return base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()  # noqa: S303


def token_params(path: str) -> dict[str, str] | None:
    """/login/{tenant}/oauth2/v2.0/token, exactly (no trailing slash)."""
    bits = path.split("/")
    if len(bits) != 6 or bits[1] != "login" or bits[3:] != ["oauth2", "v2.0", "token"]:
        return None
    return {"tenant": bits[2]}


def aad_error(status: int, error: str, code: int, text: str) -> Resp:
    return oauth_error(
        status,
        error,
        f"AADSTS{code}: {text}",
        error_codes=[code],
        timestamp=time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        trace_id=secrets.token_hex(16),
        correlation_id=secrets.token_hex(16),
    )


def token_endpoint(app: App, req: Request) -> Resp:
    """POST /graph/login/{tenant}/oauth2/v2.0/token: client secret or certificate assertion."""
    graph = app.keys.creds["graph"]
    form = auth.token_form(req)
    if isinstance(form, Resp):
        return form
    problem = _request_problem(req, form, graph) or _client_auth(app, req, form, graph)
    if problem:
        return problem
    roles = list(app.state.apps["graph"]["roles"])  # the app permissions admin-consented
    access_token, ttl = auth.issue(app, "graph", roles, lifetime=LIFETIME)
    return Resp(
        200,
        {
            "token_type": "Bearer",
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": access_token,
        },
    )


def _request_problem(req: Request, form: dict, graph: dict) -> Resp | None:
    if req.params.get("tenant") != graph["tenant_id"]:
        return aad_error(
            400, "invalid_request", 90002, f"Tenant '{req.params.get('tenant')}' not found."
        )
    if form.get("grant_type") != "client_credentials":
        return aad_error(
            400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
        )
    if form.get("client_id") != graph["client_id"]:
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{form.get('client_id')}' was not found in the directory.",
        )
    if form.get("scope") != SCOPE:
        return aad_error(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed.",
        )
    return None


def _client_auth(app: App, req: Request, form: dict, graph: dict) -> Resp | None:
    if form.get("client_secret"):
        if hmac.compare_digest(form["client_secret"], graph["client_secret"]):
            return None
        return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
    if form.get("client_assertion_type") != auth.JWT_BEARER or not form.get("client_assertion"):
        return aad_error(
            400,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    claims = _assertion_claims(app, req, form["client_assertion"])
    if isinstance(claims, Resp):
        return claims
    if claims["iss"] != graph["client_id"] or claims["sub"] != graph["client_id"]:
        return aad_error(
            401, "invalid_client", 700023, "Client assertion iss and sub must be the client id."
        )
    if auth.replayed(app, claims.get("jti"), claims["exp"]):
        return aad_error(
            401, "invalid_client", 7000215, "Client assertion has already been used (jti replay)."
        )
    return None


def _assertion_claims(app: App, req: Request, assertion: str) -> dict | Resp:
    keys: GraphKeys = app.keys["graph"]
    try:
        header = jwt.get_unverified_header(assertion)
        if header.get("x5t#S256", header.get("x5t")) not in keys.thumbprints:
            return aad_error(
                401,
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not found.]",
            )
        audiences = auth.token_urls(req, f"/graph/login/{req.params['tenant']}/oauth2/v2.0/token")
        return auth.decode(assertion, keys.public, audiences, ["RS256", "PS256"])
    except jwt.PyJWTError as exc:
        code = {"expired": 700024, "audience": 700016}.get(auth.jwt_problem(exc), 700027)
        return aad_error(
            401,
            "invalid_client",
            code,
            f"Client assertion failed validation ({auth.jwt_problem(exc)}).",
        )


authenticate = auth.bearer(unauthorized)  # application permissions: every route is allowed
