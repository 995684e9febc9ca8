"""Token endpoints and API credentials: success and each failure, per system."""

from __future__ import annotations

import base64
import time

import httpx
import jwt
import pytest

from connections.sandbox import assertions
from tests.fixtures_sandbox import GOOGLE_SCOPES
from tests.sandbox import specs

ALICE = "alice.anders@acme.example"


def _okta_post(sandbox, **claims):
    sandbox.set_app("okta", dpop=False)  # the client assertion alone (DPoP: test_okta_dpop.py)
    url = sandbox.token_url("okta")
    return httpx.post(
        url, data=assertions.okta_form(sandbox.credentials, url, ["okta.users.read"], **claims)
    )


def test_okta_private_key_jwt_gives_a_scoped_token(sandbox):
    resp = _okta_post(sandbox)
    assert resp.status_code == 200
    assert resp.json()["token_type"] == "Bearer" and resp.json()["expires_in"] == 3600
    assert resp.json()["scope"] == "okta.users.read"


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "http://127.0.0.1:1/okta/oauth2/v1/token"},
        {"exp": int(time.time()) - 120},
        {"exp": int(time.time()) + 7200},
        {"sub": "someone-else"},
        {"iss": "0oaUnknownClient"},
    ],
    ids=["wrong-aud", "expired", "exp-too-far", "wrong-sub", "wrong-iss"],
)
def test_okta_bad_assertions_are_refused(sandbox, claims):
    resp = _okta_post(sandbox, **claims)
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    specs.check_oauth_error(resp.json())


def test_okta_assertion_signed_by_another_key_is_refused(sandbox):
    from connections.sandbox.credentials import generate_credentials

    other = generate_credentials()
    forged = {
        **sandbox.credentials,
        "okta": {
            **sandbox.credentials["okta"],
            "private_key_pem": other["okta"]["private_key_pem"],
        },
    }
    url = sandbox.token_url("okta")
    resp = httpx.post(url, data=assertions.okta_form(forged, url, ["okta.users.read"]))
    assert resp.status_code == 401 and "signature" in resp.json()["error_description"]


def test_okta_jti_replay_is_refused(sandbox):
    sandbox.set_app("okta", dpop=False)
    url = sandbox.token_url("okta")
    form = assertions.okta_form(sandbox.credentials, url, ["okta.users.read"])
    assert httpx.post(url, data=form).status_code == 200
    replay = httpx.post(url, data=form)
    assert replay.status_code == 401 and "jti" in replay.json()["error_description"]


def test_okta_missing_scope_gives_e0000006(sandbox):
    sandbox.set_app("okta", dpop=False)
    token = sandbox.token("okta", scopes=["okta.users.read"])
    headers = {"Authorization": f"Bearer {token}"}
    uid = sandbox.person(ALICE)["okta"]["id"]
    assert httpx.get(sandbox.url("okta", f"/users/{uid}"), headers=headers).status_code == 200
    resp = httpx.post(sandbox.url("okta", f"/users/{uid}/lifecycle/suspend"), headers=headers)
    assert resp.status_code == 403 and resp.json()["errorCode"] == "E0000006"
    assert sandbox.person(ALICE)["okta"]["status"] == "ACTIVE"
    assert sandbox.effects("okta")[-1]["applied"] is False


@pytest.mark.parametrize("header", [None, "SSWS wrong-token", "Bearer not-a-token"])
def test_okta_bad_credentials_give_e0000011(sandbox, header):
    headers = {"Authorization": header} if header else {}
    resp = httpx.get(sandbox.url("okta", "/users"), headers=headers)
    assert resp.status_code == 401 and resp.json()["errorCode"] == "E0000011"
    specs.check_openapi("okta", "/users", "get", 403, resp.json())  # same Error schema


def test_token_expiry_then_refresh(sandbox):
    sandbox.set_app("okta", dpop=False)
    sandbox.set_token_ttl(1)
    url = sandbox.token_url("okta")
    resp = httpx.post(url, data=assertions.okta_form(sandbox.credentials, url, ["okta.users.read"]))
    assert resp.json()["expires_in"] == 1
    headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    assert httpx.get(sandbox.url("okta", f"/users/{ALICE}"), headers=headers).status_code == 200
    time.sleep(1.2)
    assert httpx.get(sandbox.url("okta", f"/users/{ALICE}"), headers=headers).status_code == 401
    fresh = {"Authorization": f"Bearer {sandbox.token('okta')}"}
    assert httpx.get(sandbox.url("okta", f"/users/{ALICE}"), headers=fresh).status_code == 200


def test_control_expires_every_token(sandbox):
    headers = sandbox.headers("zoom")
    assert httpx.get(sandbox.url("zoom", f"/users/{ALICE}"), headers=headers).status_code == 200
    httpx.post(sandbox.base_url + "/_sandbox/tokens/expire")
    resp = httpx.get(sandbox.url("zoom", f"/users/{ALICE}"), headers=headers)
    assert resp.status_code == 401 and resp.json() == {
        "code": 124,
        "message": "Invalid access token.",
    }


def _google_post(sandbox, scopes=GOOGLE_SCOPES, sub=None, **claims):
    url = sandbox.token_url("google")
    return httpx.post(
        url, data=assertions.google_form(sandbox.credentials, url, scopes, sub, **claims)
    )


def test_google_service_account_flow(sandbox):
    resp = _google_post(sandbox)
    assert resp.status_code == 200 and resp.json()["token_type"] == "Bearer"
    headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    assert httpx.get(sandbox.url("google", f"/users/{ALICE}"), headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"sub": "nobody@acme.example"}, 400, "invalid_grant"),
        ({"aud": "https://oauth2.example/token"}, 400, "invalid_grant"),
        ({"exp": int(time.time()) - 100}, 400, "invalid_grant"),
        ({"iss": "intruder@evil.example"}, 400, "invalid_grant"),
        (
            {"scopes": ["https://www.googleapis.com/auth/cloud-platform"]},
            401,
            "unauthorized_client",
        ),
        ({"scopes": []}, 400, "invalid_scope"),
    ],
    ids=["unknown-sub", "wrong-aud", "expired", "wrong-iss", "scope-not-delegated", "no-scope"],
)
def test_google_bad_assertions(sandbox, kwargs, status, error):
    resp = _google_post(sandbox, **kwargs)
    assert (resp.status_code, resp.json()["error"]) == (status, error)


def test_google_non_admin_subject_is_forbidden_on_the_api(sandbox):
    token = _google_post(sandbox, sub="bob.brandt@acme.example").json()["access_token"]
    resp = httpx.get(
        sandbox.url("google", f"/users/{ALICE}"), headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 403 and resp.json()["error"]["errors"][0]["reason"] == "forbidden"


def test_google_missing_scope_and_bad_token(sandbox):
    readonly = ["https://www.googleapis.com/auth/admin.directory.user.readonly"]
    headers = {"Authorization": f"Bearer {sandbox.token('google', scopes=readonly)}"}
    resp = httpx.post(sandbox.url("google", f"/users/{ALICE}/signOut"), headers=headers)
    assert (
        resp.status_code == 403
        and resp.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"
    )
    bad = httpx.get(
        sandbox.url("google", f"/users/{ALICE}"), headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401 and bad.json()["error"]["status"] == "UNAUTHENTICATED"
    specs.check_google("directory.users.get", 401, bad.json())


def _basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_zoom_account_credentials(sandbox):
    zoom = sandbox.credentials["zoom"]
    url = sandbox.token_url("zoom")
    params = {"grant_type": "account_credentials", "account_id": zoom["account_id"]}
    ok = httpx.post(url, params=params, headers=_basic(zoom["client_id"], zoom["client_secret"]))
    assert (
        ok.status_code == 200
        and ok.json()["token_type"] == "bearer"
        and ok.json()["expires_in"] == 3600
    )
    wrong_secret = httpx.post(url, params=params, headers=_basic(zoom["client_id"], "nope"))
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    wrong_account = httpx.post(
        url,
        params={**params, "account_id": "x"},
        headers=_basic(zoom["client_id"], zoom["client_secret"]),
    )
    assert wrong_account.status_code == 400
    assert httpx.post(url, params=params).status_code == 401


def test_graph_secret_and_certificate(sandbox):
    url = sandbox.token_url("graph")
    creds = sandbox.credentials
    assert httpx.post(url, data=assertions.graph_form(creds)).status_code == 200
    cert = httpx.post(url, data=assertions.graph_form(creds, url, secret=False))
    assert cert.status_code == 200 and cert.json()["token_type"] == "Bearer"
    wrong_aud = httpx.post(
        url, data=assertions.graph_form(creds, "http://elsewhere/token", secret=False)
    )
    assert wrong_aud.status_code == 401 and wrong_aud.json()["error"] == "invalid_client"
    bad_secret = httpx.post(url, data={**assertions.graph_form(creds), "client_secret": "nope"})
    assert (
        bad_secret.status_code == 401 and "AADSTS7000215" in bad_secret.json()["error_description"]
    )
    wrong_tenant = httpx.post(
        url.replace(creds["graph"]["tenant_id"], "00000000-0000-0000-0000-000000000000"),
        data=assertions.graph_form(creds),
    )
    assert wrong_tenant.status_code == 400 and 90002 in wrong_tenant.json()["error_codes"]


def test_graph_assertion_with_wrong_thumbprint_is_refused(sandbox):
    url = sandbox.token_url("graph")
    creds = sandbox.credentials
    form = assertions.graph_form(creds, url, secret=False)
    claims = jwt.decode(form["client_assertion"], options={"verify_signature": False})
    form["client_assertion"] = jwt.encode(
        claims, creds["graph"]["private_key_pem"], algorithm="PS256", headers={"x5t#S256": "AAAA"}
    )
    resp = httpx.post(url, data=form)
    assert resp.status_code == 401 and "AADSTS700027" in resp.json()["error_description"]


def test_graph_api_bad_token(sandbox):
    missing = httpx.get(sandbox.url("graph", f"/users/{ALICE}"))
    assert (
        missing.status_code == 401
        and missing.json()["error"]["code"] == "InvalidAuthenticationToken"
    )
    okta_token = sandbox.token("okta")
    cross = httpx.get(
        sandbox.url("graph", f"/users/{ALICE}"), headers={"Authorization": f"Bearer {okta_token}"}
    )
    assert cross.status_code == 401


def test_token_endpoints_refuse_wrong_content_type(sandbox):
    resp = httpx.post(sandbox.token_url("okta"), json={"grant_type": "client_credentials"})
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"


def test_google_auth_library_gets_a_token_and_reads_a_user(sandbox):
    """google-auth signs aud = https://oauth2.googleapis.com/token and POSTs to token_uri."""
    import google.auth.transport.requests
    from google.oauth2 import service_account

    info = {**sandbox.credentials["google"]["service_account"]}
    info["token_uri"] = sandbox.token_url("google")
    credentials = service_account.Credentials.from_service_account_info(
        info, scopes=GOOGLE_SCOPES, subject=sandbox.credentials["google"]["admin_email"]
    )
    credentials.refresh(google.auth.transport.requests.Request())
    headers = {"Authorization": f"Bearer {credentials.token}"}
    assert httpx.get(sandbox.url("google", f"/users/{ALICE}"), headers=headers).status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://oauth2.googleapis.com/token", "iss": "intruder@evil.example"},
        {"aud": "https://oauth2.googleapis.com/token", "exp": int(time.time()) - 100},
        {"aud": "https://oauth2.googleapis.com/token", "sub": "nobody@acme.example"},
        {"aud": "https://oauth2.googleapis.com/token.evil"},
    ],
    ids=["wrong-iss", "expired", "unknown-admin", "lookalike-aud"],
)
def test_google_documented_audience_does_not_excuse_anything_else(sandbox, claims):
    assert _google_post(sandbox, **claims).json()["error"] == "invalid_grant"


def test_google_unknown_key_id_and_bad_signature_are_refused(sandbox):
    from connections.sandbox.credentials import generate_credentials

    url = sandbox.token_url("google")
    creds = sandbox.credentials
    sa = creds["google"]["service_account"]
    wrong_kid = jwt.encode(
        jwt.decode(
            assertions.google_assertion(creds, url, GOOGLE_SCOPES),
            options={"verify_signature": False},
        ),
        sa["private_key"],
        algorithm="RS256",
        headers={"kid": "0" * 40},
    )
    other = generate_credentials()["google"]["service_account"]["private_key"]
    forged = {
        **creds,
        "google": {**creds["google"], "service_account": {**sa, "private_key": other}},
    }
    for assertion in (wrong_kid, assertions.google_assertion(forged, url, GOOGLE_SCOPES)):
        resp = httpx.post(url, data={"grant_type": assertions.GOOGLE_GRANT, "assertion": assertion})
        assert resp.json() == {
            "error": "invalid_grant",
            "error_description": "Invalid JWT Signature.",
        }


def test_google_scopes_the_app_was_not_granted_are_refused(sandbox):
    readonly = "https://www.googleapis.com/auth/admin.directory.user.readonly"
    httpx.put(sandbox.url("control", "/apps/google"), json={"scopes": [readonly]})
    assert _google_post(sandbox, scopes=[readonly]).status_code == 200
    resp = _google_post(sandbox)
    assert resp.status_code == 401 and resp.json()["error"] == "unauthorized_client"
