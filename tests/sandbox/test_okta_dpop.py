"""The sandbox's Okta service app requires DPoP (RFC 9449) the way Okta does, and says why it refuses."""

from __future__ import annotations

import time

import httpx
import pytest

from connections.sandbox import assertions
from tests.sandbox import specs

ALICE = "alice.anders@acme.example"


def _token_call(sandbox, key, nonce=None, **proof_overrides):
    url = sandbox.token_url("okta")
    proof = assertions.dpop_proof(key, "POST", url, nonce=nonce, **proof_overrides)
    form = assertions.okta_form(sandbox.credentials, url, ["okta.users.read"])
    return httpx.post(url, data=form, headers={"DPoP": proof})


def _nonce(sandbox, key) -> str:
    challenge = _token_call(sandbox, key)
    assert challenge.status_code == 400 and challenge.json()["error"] == "use_dpop_nonce"
    return challenge.headers["DPoP-Nonce"]


def test_token_request_needs_a_proof_then_the_nonce(sandbox):
    key = assertions.dpop_key_pem()
    url = sandbox.token_url("okta")
    missing = httpx.post(url, data=assertions.okta_form(sandbox.credentials, url))
    assert missing.status_code == 400 and missing.json() == {
        "error": "invalid_dpop_proof",
        "error_description": "The DPoP proof JWT header is missing.",
    }
    nonce = _nonce(sandbox, key)
    resp = _token_call(sandbox, key, nonce=nonce)
    assert resp.status_code == 200 and resp.json()["token_type"] == "DPoP"
    specs.check_token_response(resp.json())


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"htm": "GET"}, "htm"),
        ({"htu": "http://127.0.0.1:1/okta/oauth2/v1/token"}, "htu"),
        ({"iat": int(time.time()) - 3600}, "iat"),
        ({"header": {"typ": "JWT"}}, "typ"),
    ],
    ids=["wrong-htm", "wrong-htu", "old-iat", "wrong-typ"],
)
def test_bad_token_proofs_are_refused(sandbox, overrides, words):
    key = assertions.dpop_key_pem()
    nonce = _nonce(sandbox, key)
    resp = _token_call(sandbox, key, nonce=nonce, **overrides)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_dpop_proof"
    assert words in resp.json()["error_description"]
    specs.check_oauth_error(resp.json())


def test_a_replayed_proof_is_refused(sandbox):
    key = assertions.dpop_key_pem()
    nonce = _nonce(sandbox, key)
    url = sandbox.token_url("okta")
    proof = assertions.dpop_proof(key, "POST", url, nonce=nonce)
    first = httpx.post(
        url, data=assertions.okta_form(sandbox.credentials, url), headers={"DPoP": proof}
    )
    again = httpx.post(
        url, data=assertions.okta_form(sandbox.credentials, url), headers={"DPoP": proof}
    )
    assert first.status_code == 200
    assert again.status_code == 400 and "jti" in again.json()["error_description"]


def _api(sandbox, method, path, headers):
    return httpx.request(method, sandbox.url("okta", path), headers=headers)


def test_api_calls_need_the_dpop_scheme_and_a_fresh_proof_with_ath(sandbox):
    token, key = sandbox.okta_token(["okta.users.read"])
    url = sandbox.url("okta", f"/users/{ALICE}")
    good = httpx.get(url, headers=sandbox.okta_dpop_headers("GET", url, token, key))
    assert good.status_code == 200 and good.json()["profile"]["login"] == ALICE

    as_bearer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert (
        as_bearer.status_code == 401
        and 'error="invalid_token"' in as_bearer.headers["WWW-Authenticate"]
    )
    no_proof = httpx.get(url, headers={"Authorization": f"DPoP {token}"})
    assert no_proof.status_code == 401 and no_proof.json()["errorCode"] == "E0000011"
    assert 'DPoP error="invalid_dpop_proof"' in no_proof.headers["WWW-Authenticate"]

    other = sandbox.url("okta", "/users")
    wrong_htu = {"Authorization": f"DPoP {token}", **_proof(key, "GET", other, token)}
    wrong_htm = {"Authorization": f"DPoP {token}", **_proof(key, "POST", url, token)}
    wrong_ath = {"Authorization": f"DPoP {token}", **_proof(key, "GET", url, "another")}
    other_key = {"Authorization": f"DPoP {token}"}
    other_key.update(_proof(assertions.dpop_key_pem(), "GET", url, token))
    for headers, words in (
        (wrong_htu, "htu"),
        (wrong_htm, "htm"),
        (wrong_ath, "ath"),
        (other_key, "bound"),
    ):
        resp = httpx.get(url, headers=headers)
        assert resp.status_code == 401 and words in resp.headers["WWW-Authenticate"], words
        specs.check_openapi("okta", "/users", "get", 403, resp.json())  # Okta's Error schema
    replay = sandbox.okta_dpop_headers("GET", url, token, key)
    assert httpx.get(url, headers=replay).status_code == 200
    assert httpx.get(url, headers=replay).status_code == 401


def _proof(key, method, url, token):
    return {"DPoP": assertions.dpop_proof(key, method, url, access_token=token)}


def test_the_switch_turns_dpop_off_and_reset_turns_it_back_on(sandbox):
    control = sandbox.url("control", "/apps/okta")
    assert httpx.put(control, json={"dpop": False}).json()["dpop"] is False
    token, key = sandbox.okta_token(["okta.users.read"])
    assert key is None
    url = sandbox.url("okta", f"/users/{ALICE}")
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert httpx.put(control, json={"dpop": "no"}).status_code == 400
    sandbox.reset()
    assert httpx.get(sandbox.url("control", "/apps")).json()["okta"]["dpop"] is True


@pytest.mark.parametrize("header", ["SSWS {t}", "SSWS{t}", "ssws  {t}"])
def test_ssws_with_or_without_a_space(sandbox, header):
    token = sandbox.credentials["okta"]["api_token"]
    resp = httpx.get(
        sandbox.url("okta", "/users"),
        params={"limit": 1},
        headers={"Authorization": header.format(t=token)},
    )
    assert resp.status_code == 200


def test_okta_scopes_not_granted_to_the_app_give_invalid_scope(sandbox):
    sandbox.set_app("okta", dpop=False)
    httpx.put(sandbox.url("control", "/apps/okta"), json={"scopes": ["okta.users.read"]})
    url = sandbox.token_url("okta")
    form = assertions.okta_form(sandbox.credentials, url, ["okta.users.read", "okta.users.manage"])
    resp = httpx.post(url, data=form)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_scope"
    specs.check_oauth_error(resp.json())
