"""The sandbox's Okta org server as an OpenID Connect issuer (CONTRACTS.md §1.5 D)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from connections.sandbox.okta.oidc import sign_in_app

ALICE = "alice.anders@acme.example"
REDIRECT = "http://127.0.0.1:8000/accounts/okta/login/callback/"
VERIFIER = "v" * 50


def _challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def _authorize(sandbox, login: str = ALICE, **extra) -> httpx.Response:
    client_id, _ = sign_in_app(sandbox.credentials)
    form = {
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid profile email",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": _challenge(VERIFIER),
        "code_challenge_method": "S256",
        "login": login,
        **extra,
    }
    return httpx.post(f"{sandbox.base_url}/okta/oauth2/v1/authorize", data=form)


def _token(sandbox, code: str, verifier: str = VERIFIER, secret: str | None = None):
    client_id, real_secret = sign_in_app(sandbox.credentials)
    return httpx.post(
        f"{sandbox.base_url}/okta/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client_id, secret or real_secret),
    )


def _code(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def test_discovery_names_the_org_server_endpoints(sandbox):
    issuer = f"{sandbox.base_url}/okta"
    for path in ("openid-configuration", "oauth-authorization-server"):
        meta = httpx.get(f"{issuer}/.well-known/{path}").json()
        assert meta["issuer"] == issuer
        assert meta["token_endpoint"] == f"{issuer}/oauth2/v1/token"
        assert meta["jwks_uri"] == f"{issuer}/oauth2/v1/keys"
        assert meta["authorization_endpoint"] == f"{issuer}/oauth2/v1/authorize"
        assert meta["userinfo_endpoint"] == f"{issuer}/oauth2/v1/userinfo"
        assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
        assert meta["id_token_signing_alg_values_supported"] == ["RS256"]


def test_the_authorize_page_is_a_sign_in_form(sandbox):
    client_id, _ = sign_in_app(sandbox.credentials)
    page = httpx.get(
        f"{sandbox.base_url}/okta/oauth2/v1/authorize",
        params={
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid email",
            "state": '"><script>',
        },
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'name="login"' in page.text and "<script>" not in page.text


def test_the_code_flow_gives_a_signed_id_token_and_userinfo(sandbox):
    tokens = _token(sandbox, _code(_authorize(sandbox))).json()
    client_id, _ = sign_in_app(sandbox.credentials)
    jwks = httpx.get(f"{sandbox.base_url}/okta/oauth2/v1/keys").json()
    (key,) = jwks["keys"]
    assert jwt.get_unverified_header(tokens["id_token"])["kid"] == key["kid"]
    claims = jwt.decode(
        tokens["id_token"],
        jwt.algorithms.RSAAlgorithm.from_jwk(key),
        algorithms=["RS256"],
        audience=client_id,
        issuer=f"{sandbox.base_url}/okta",
    )
    okta_id = sandbox.person(ALICE)["okta"]["id"]
    assert (claims["sub"], claims["email"], claims["email_verified"]) == (okta_id, ALICE, True)
    assert claims["nonce"] == "n-1"
    info = httpx.get(
        f"{sandbox.base_url}/okta/oauth2/v1/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    ).json()
    assert (info["sub"], info["email"], info["given_name"]) == (okta_id, ALICE, "Alice")


def test_a_code_works_once_and_only_with_its_verifier_and_secret(sandbox):
    code = _code(_authorize(sandbox))
    assert _token(sandbox, code, secret="wrong").json()["error"] == "invalid_client"
    assert _token(sandbox, code, verifier="w" * 50).json()["error"] == "invalid_grant"
    code = _code(_authorize(sandbox))
    assert _token(sandbox, code).status_code == 200
    assert _token(sandbox, code).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"client_id": "0oaunknown"}, "invalid_client"),
        ({"redirect_uri": "https://evil.example/cb"}, "redirect_uri"),
        ({"scope": "profile"}, "invalid_scope"),
    ],
)
def test_a_bad_authorize_request_gets_an_error_page(sandbox, extra, words):
    response = _authorize(sandbox, **extra)
    assert response.status_code == 400 and words in response.text


def test_unknown_or_inactive_logins_and_unverified_emails(sandbox):
    assert _authorize(sandbox, login="nobody@acme.example").status_code == 401
    answer = httpx.post(
        f"{sandbox.base_url}/_sandbox/okta/people/{ALICE}/email-verified", json={"verified": False}
    )
    assert answer.json() == {"email": ALICE, "email_verified": False}
    claims = jwt.decode(
        _token(sandbox, _code(_authorize(sandbox))).json()["id_token"],
        options={"verify_signature": False},
    )
    assert claims["email_verified"] is False


def test_the_sign_in_app_settings_are_on_the_control_api(sandbox):
    app = httpx.get(f"{sandbox.base_url}/_sandbox/okta/sign-in-app").json()
    assert (app["OKTA_OIDC_CLIENT_ID"], app["OKTA_OIDC_CLIENT_SECRET"]) == sign_in_app(
        sandbox.credentials
    )
