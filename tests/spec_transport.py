"""An httpx transport that checks every request a connector sends against the API specs.

Wrapped around the connectors' test transports (respx mocks, and the network when the tests run
against the sandbox), it fails the test on a call shape the vendor does not document: an unknown
path or method, a query parameter the operation does not declare, a JSON body that does not match
the operation's request schema, a token request without the documented form fields, or (Okta) a
DPoP proof that is not what RFC 9449 asks for. The specs are the project's copies in
tests/api_specs (for the token endpoints of Google, Zoom and Entra, which have no spec file there,
the fields CONTRACTS.md lists).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

import httpx
import jwt
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.sandbox import specs


class CallShapeError(AssertionError):
    """A request the API specs do not describe."""


@dataclass(frozen=True)
class Api:
    name: str  # a key of specs.FILES, or "google"
    marker: str  # the URL path prefix where the spec's paths start (kept in Okta's spec paths)
    keep_marker: bool


APIS = (
    Api("okta", "/api/v1/", True),
    Api("graph", "/v1.0/", False),
    Api("zoom", "/v2/", False),
    Api("google", "/admin/directory/v1/", True),
)
OKTA_CURSOR = {"after", "limit"}
TOKEN_FORMS = {
    # grant_type -> (required fields, allowed fields), from CONTRACTS.md §1.5 B, §2.4, §3.2, §4.3
    "client_credentials": (
        {"grant_type", "scope"},
        {
            "grant_type",
            "scope",
            "client_assertion_type",
            "client_assertion",
            "client_id",
            "client_secret",
        },
    ),
    "urn:ietf:params:oauth:grant-type:jwt-bearer": (
        {"grant_type", "assertion"},
        {"grant_type", "assertion"},
    ),
}


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(?:\\\+)?[^}]+\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{pattern}$")


@functools.cache
def _openapi_ops(api: str) -> list[tuple[re.Pattern[str], str, dict, dict]]:
    spec = specs._load(api)
    ops = []
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                params = [specs._resolve(spec, p) for p in item.get("parameters", [])]
                params += [specs._resolve(spec, p) for p in op.get("parameters", [])]
                ops.append((_template_regex(template), method.upper(), op, {"params": params}))
    # Literal paths first (…/memberOf/microsoft.graph.directoryRole before …/{id}).
    ops.sort(key=lambda o: o[0].pattern.count("[^/]+"))
    return ops


@functools.cache
def _google_ops() -> list[tuple[re.Pattern[str], str, dict]]:
    _, methods = specs._google()
    return sorted(
        ((_template_regex(m["path"]), m["httpMethod"], m) for m in methods.values()),
        key=lambda o: o[0].pattern.count("[^/]+"),
    )


def check_request(request: httpx.Request) -> None:
    """Raise CallShapeError unless the request is one the specs describe."""
    # Matched percent-encoded: an id holding "/" is sent as %2F and stays one segment.
    path = request.url.raw_path.decode().split("?")[0]
    query = [k for k, _ in parse_qsl(request.url.query.decode(), keep_blank_values=True)]
    for api in APIS:
        index = path.find(api.marker)
        if index < 0:
            continue
        rest = path[index + (0 if api.keep_marker else len(api.marker) - 1) :]
        if api.name == "google":
            _check_google(request, rest.lstrip("/"), query)
        else:
            _check_openapi(api.name, request, rest, query)
        if api.name == "okta" and "DPoP" in request.headers:
            check_dpop_proof(request)
        return
    if unquote(path).endswith("/token"):
        _check_token_request(request)
        return
    raise CallShapeError(f"{request.method} {path}: no API spec covers this URL")


def _check_openapi(api: str, request: httpx.Request, path: str, query: list[str]) -> None:
    spec = specs._load(api)
    methods_seen = []
    for regex, method, op, extra in _openapi_ops(api):
        if not regex.match(path):
            continue
        methods_seen.append(method)
        if method != request.method:
            continue
        declared = {p["name"] for p in extra["params"] if p.get("in") == "query"}
        if api == "okta" and request.method == "GET":
            declared |= OKTA_CURSOR  # in the Link next URLs Okta hands out (CONTRACTS.md §1.3)
        unknown = sorted(set(query) - declared)
        if unknown:
            raise CallShapeError(f"{request.method} {path}: undeclared query parameters {unknown}")
        body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
        if request.content and body is not None:
            schema = specs._strip_discriminators(
                {**body["schema"], "components": spec["components"]}
            )
            OAS30Validator(schema, format_checker=oas30_format_checker).validate(
                json.loads(request.content)
            )
        elif request.content:
            raise CallShapeError(f"{request.method} {path}: the operation takes no JSON body")
        return
    raise CallShapeError(
        f"{request.method} {path}: not in {specs.FILES[api]}"
        + (f" (only {sorted(set(methods_seen))})" if methods_seen else "")
    )


def _check_google(request: httpx.Request, path: str, query: list[str]) -> None:
    for regex, method, op in _google_ops():
        if regex.match(path) and method == request.method:
            declared = {
                name for name, p in op.get("parameters", {}).items() if p["location"] == "query"
            }
            unknown = sorted(set(query) - declared)
            if unknown:
                raise CallShapeError(f"{op['id']}: undeclared query parameters {unknown}")
            if request.content and "request" not in op:
                raise CallShapeError(f"{op['id']}: the method takes no body")
            return
    raise CallShapeError(f"{request.method} {path}: not in google-directory.json")


def _check_token_request(request: httpx.Request) -> None:
    if request.method != "POST":
        raise CallShapeError(f"{request.method} token endpoint: only POST is documented")
    if "/zoom" in request.url.path or request.url.host == "zoom.us":
        params = dict(request.url.params)
        if params.get("grant_type") != "account_credentials" or not params.get("account_id"):
            raise CallShapeError("Zoom token: grant_type=account_credentials and account_id")
        if not request.headers.get("Authorization", "").startswith("Basic "):
            raise CallShapeError("Zoom token: client id and secret go in Basic auth")
        return
    ctype = request.headers.get("Content-Type", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise CallShapeError(f"token request: form encoding expected, got {ctype!r}")
    form = dict(parse_qsl(request.content.decode()))
    rule = TOKEN_FORMS.get(form.get("grant_type", ""))
    if rule is None:
        raise CallShapeError(f"token request: undocumented grant_type {form.get('grant_type')!r}")
    required, allowed = rule
    if not required <= set(form) or not set(form) <= allowed:
        raise CallShapeError(f"token request: fields {sorted(form)} (required {sorted(required)})")
    if request.url.path.endswith("/oauth2/v1/token"):  # Okta's org server: its own spec too
        specs.check_openapi_request_form("okta_token", "/oauth2/v1/token", form)
        if "DPoP" in request.headers:
            check_dpop_proof(request)


def check_dpop_proof(request: httpx.Request) -> None:
    """RFC 9449 §4.2: typ, asymmetric alg, public jwk, htm/htu of this request, iat, jti."""
    proof = request.headers["DPoP"]
    header = jwt.get_unverified_header(proof)
    if header.get("typ") != "dpop+jwt" or header.get("alg") not in (
        "RS256",
        "RS384",
        "RS512",
        "ES256",
        "ES384",
        "ES512",
    ):
        raise CallShapeError(f"DPoP proof header {header}")
    jwk = header.get("jwk") or {}
    if "d" in jwk:
        raise CallShapeError("DPoP proof carries a private key")
    key = jwt.PyJWK(jwk, header["alg"]).key
    claims = jwt.decode(proof, key, algorithms=[header["alg"]])
    url = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
    if claims.get("htm") != request.method or claims.get("htu") != url:
        raise CallShapeError(f"DPoP proof htm/htu {claims.get('htm')} {claims.get('htu')}")
    if not claims.get("jti") or not isinstance(claims.get("iat"), int):
        raise CallShapeError("DPoP proof without jti or iat")
    scheme = request.headers.get("Authorization", "").split(" ")[0]
    if "/api/v1/" in request.url.path and (scheme != "DPoP" or "ath" not in claims):
        raise CallShapeError("an API call with a DPoP proof needs the DPoP scheme and ath")


class SpecTransport(httpx.BaseTransport):
    """Checks each request against the specs, then hands it to the inner transport."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.checked = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_request(request)
        self.checked += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def check_every_real_call(monkeypatch) -> None:
    """Make every client built from now on check its requests (the real, pinned transport kept)."""
    from connections.providers import http, transport

    real = transport.PinnedTransport

    def checked(addresses, *, limits, inner=None):  # same signature as PinnedTransport
        return SpecTransport(real(addresses, limits=limits, inner=inner))

    monkeypatch.setattr(http, "PinnedTransport", checked)
