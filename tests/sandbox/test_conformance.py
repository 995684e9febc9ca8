"""Every response the portal relies on, validated against the stored API specs."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox import specs

ALICE = "alice.anders@acme.example"
ERIN = "erin.easton@acme.example"  # SUSPENDED in Okta
FRANK = "frank.fischer@acme.example"  # DEPROVISIONED in Okta


def _body(resp: httpx.Response):
    return resp.json() if resp.content else None


@pytest.fixture
def okta(sandbox):
    client = httpx.Client(base_url=sandbox.url("okta"), headers=sandbox.headers("okta"), timeout=5)
    yield client
    client.close()


def _okta_check(resp: httpx.Response, path: str, method: str = "GET") -> None:
    specs.check_openapi("okta", path, method, resp.status_code, _body(resp))
    for name in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
        assert resp.headers[name].isdigit()


def test_okta_user_reads_match_spec(sandbox, okta):
    uid = sandbox.person(ALICE)["okta"]["id"]
    resp = okta.get(f"/users/{ALICE}")
    _okta_check(resp, "/users/{id}")
    assert (
        resp.json()["id"] == uid
        and resp.json()["profile"]["login"] == ALICE
        and resp.headers["ETag"]
    )
    _okta_check(okta.get("/users", params={"limit": 5}), "/users")
    for sub in ("groups", "appLinks"):
        resp = okta.get(f"/users/{uid}/{sub}")
        _okta_check(resp, f"/users/{{id}}/{sub}")
        assert resp.json()
    for sub in ("factors", "grants", "clients", "devices"):
        resp = okta.get(f"/users/{uid}/{sub}")
        _okta_check(resp, f"/users/{{userId}}/{sub}")
        assert resp.json(), sub


def test_okta_lifecycle_and_errors_match_spec(sandbox, okta):
    uid = sandbox.person(ALICE)["okta"]["id"]
    _okta_check(
        okta.post(f"/users/{uid}/lifecycle/suspend"), "/users/{id}/lifecycle/suspend", "POST"
    )
    again = okta.post(f"/users/{uid}/lifecycle/suspend")
    _okta_check(again, "/users/{id}/lifecycle/suspend", "POST")
    assert again.status_code == 400 and again.json()["errorCode"] == "E0000001"
    assert again.json()["errorCauses"] == [
        {"errorSummary": "Cannot suspend a user that is not active"}
    ]
    _okta_check(
        okta.post(f"/users/{uid}/lifecycle/unsuspend"), "/users/{id}/lifecycle/unsuspend", "POST"
    )
    repeat = okta.post(f"/users/{uid}/lifecycle/unsuspend")
    assert (
        repeat.status_code == 400
        and repeat.json()["errorCauses"][0]["errorSummary"]
        == "Cannot unsuspend a user that is not suspended"
    )
    resp = okta.delete(f"/users/{uid}/sessions", params={"oauthTokens": "true"})
    _okta_check(resp, "/users/{userId}/sessions", "DELETE")
    assert resp.status_code == 204 and sandbox.person(ALICE)["okta"]["sessions"] == 0
    assert sandbox.person(ALICE)["okta"]["client_tokens"] == 0
    _okta_check(
        okta.post(f"/users/{uid}/lifecycle/reset_factors"),
        "/users/{id}/lifecycle/reset_factors",
        "POST",
    )
    assert sandbox.person(ALICE)["okta"]["factors"] == []
    resp = okta.post(f"/users/{uid}/lifecycle/expire_password")
    _okta_check(resp, "/users/{id}/lifecycle/expire_password", "POST")
    assert resp.json()["status"] == "PASSWORD_EXPIRED"


def test_okta_deactivate_twice_gives_not_found(sandbox, okta):
    frank = sandbox.person(FRANK)["okta"]["id"]
    resp = okta.post(f"/users/{frank}/lifecycle/deactivate")
    _okta_check(resp, "/users/{id}/lifecycle/deactivate", "POST")
    assert resp.status_code == 404 and resp.json()["errorCode"] == "E0000007"
    erin = sandbox.person(ERIN)["okta"]["id"]
    assert okta.post(f"/users/{erin}/lifecycle/deactivate").status_code == 200
    assert sandbox.person(ERIN)["okta"]["status"] == "DEPROVISIONED"


def test_okta_groups_apps_factors_grants_devices(sandbox, okta):
    uid = sandbox.person(ALICE)["okta"]["id"]
    groups = {g["profile"]["name"]: g for g in okta.get(f"/users/{uid}/groups").json()}
    everyone, app_group, dept = groups["Everyone"], groups["AD Domain Users"], groups["Engineering"]
    for group in (everyone, app_group):
        refused = okta.delete(f"/groups/{group['id']}/users/{uid}")
        _okta_check(refused, "/groups/{groupId}/users/{userId}", "DELETE")
        assert refused.status_code == 403
    removed = okta.delete(f"/groups/{dept['id']}/users/{uid}")
    _okta_check(removed, "/groups/{groupId}/users/{userId}", "DELETE")
    assert (
        removed.status_code == 204 and "Engineering" not in sandbox.person(ALICE)["okta"]["groups"]
    )
    link = okta.get(f"/users/{uid}/appLinks").json()[0]
    resp = okta.delete(f"/apps/{link['appInstanceId']}/users/{uid}")
    _okta_check(resp, "/apps/{appId}/users/{userId}", "DELETE")
    assert (
        resp.status_code == 204
        and okta.delete(f"/apps/{link['appInstanceId']}/users/{uid}").status_code == 404
    )
    factor = okta.get(f"/users/{uid}/factors").json()[0]
    _okta_check(
        okta.delete(f"/users/{uid}/factors/{factor['id']}"),
        "/users/{userId}/factors/{factorId}",
        "DELETE",
    )
    client = okta.get(f"/users/{uid}/clients").json()[0]
    _okta_check(
        okta.delete(f"/users/{uid}/clients/{client['client_id']}/tokens"),
        "/users/{userId}/clients/{clientId}/tokens",
        "DELETE",
    )
    _okta_check(okta.delete(f"/users/{uid}/grants"), "/users/{userId}/grants", "DELETE")
    assert okta.get(f"/users/{uid}/grants").json() == []
    device = okta.get(f"/users/{uid}/devices").json()[0]["device"]
    _okta_check(
        okta.post(f"/devices/{device['id']}/lifecycle/suspend"),
        "/devices/{deviceId}/lifecycle/suspend",
        "POST",
    )
    _okta_check(
        okta.post(f"/devices/{device['id']}/lifecycle/deactivate"),
        "/devices/{deviceId}/lifecycle/deactivate",
        "POST",
    )
    assert sandbox.person(ALICE)["okta"]["devices"][device["id"]] == "DEACTIVATED"


def test_okta_unknown_user_and_path(sandbox, okta):
    resp = okta.get("/users/nobody@acme.example")
    _okta_check(resp, "/users/{id}")
    assert resp.status_code == 404 and resp.json()["errorCode"] == "E0000007"
    unknown = okta.get("/nonsense")
    assert unknown.status_code == 404 and unknown.json()["errorCode"] == "E0000007"
    assert "X-Rate-Limit-Remaining" in unknown.headers


def test_okta_token_endpoint_matches_spec(sandbox):
    from connections.sandbox import assertions

    url = sandbox.token_url("okta")
    key = assertions.dpop_key_pem()
    form = assertions.okta_form(sandbox.credentials, url, ["okta.users.read"])
    challenge = httpx.post(
        url, data=form, headers={"DPoP": assertions.dpop_proof(key, "POST", url)}
    )
    assert challenge.status_code == 400 and challenge.json()["error"] == "use_dpop_nonce"
    specs.check_oauth_error(challenge.json())
    nonce = challenge.headers["DPoP-Nonce"]
    form = assertions.okta_form(sandbox.credentials, url, ["okta.users.read"])
    proof = assertions.dpop_proof(key, "POST", url, nonce=nonce)
    resp = httpx.post(url, data=form, headers={"DPoP": proof})
    specs.check_token_response(resp.json())
    assert resp.json()["token_type"] == "DPoP"
    missing = httpx.post(url, data=assertions.okta_form(sandbox.credentials, url))
    assert missing.json()["error"] == "invalid_dpop_proof"
    specs.check_oauth_error(missing.json())
    sandbox.set_app("okta", dpop=False)
    bearer = httpx.post(
        url, data=assertions.okta_form(sandbox.credentials, url, ["okta.users.read"])
    )
    specs.check_token_response(bearer.json())
    assert bearer.json()["token_type"] == "Bearer"
    bad = httpx.post(url, data=assertions.okta_form(sandbox.credentials, url, ["okta.nonsense"]))
    assert bad.status_code == 400
    specs.check_oauth_error(bad.json())


@pytest.fixture
def google(sandbox):
    client = httpx.Client(
        base_url=sandbox.url("google"), headers=sandbox.headers("google"), timeout=5
    )
    yield client
    client.close()


def test_google_user_and_security_calls_match_discovery(sandbox, google):
    resp = google.get(f"/users/{ALICE}")
    specs.check_google("directory.users.get", resp.status_code, resp.json())
    resp = google.put(f"/users/{ALICE}", json={"suspended": True})
    specs.check_google("directory.users.update", resp.status_code, resp.json())
    assert resp.json()["suspended"] is True and sandbox.person(ALICE)["google"]["suspended"]
    resp = google.patch(f"/users/{ALICE}", json={"suspended": True})
    specs.check_google("directory.users.patch", resp.status_code, resp.json())
    resp = google.post(f"/users/{ALICE}/signOut")
    specs.check_google("directory.users.signOut", resp.status_code, _body(resp))
    assert sandbox.person(ALICE)["google"]["signed_out_at"]
    tokens = google.get(f"/users/{ALICE}/tokens")
    specs.check_google("directory.tokens.list", tokens.status_code, tokens.json())
    client_id = tokens.json()["items"][0]["clientId"]
    resp = google.delete(f"/users/{ALICE}/tokens/{client_id}")
    specs.check_google("directory.tokens.delete", resp.status_code, _body(resp))
    asps = google.get(f"/users/{ALICE}/asps")
    specs.check_google("directory.asps.list", asps.status_code, asps.json())
    resp = google.delete(f"/users/{ALICE}/asps/{asps.json()['items'][0]['codeId']}")
    specs.check_google("directory.asps.delete", resp.status_code, _body(resp))
    codes = google.get(f"/users/{ALICE}/verificationCodes")
    specs.check_google("directory.verificationCodes.list", codes.status_code, codes.json())
    resp = google.post(f"/users/{ALICE}/verificationCodes/invalidate")
    specs.check_google("directory.verificationCodes.invalidate", resp.status_code, _body(resp))
    assert google.get(f"/users/{ALICE}/verificationCodes").json() != codes.json()


def test_invalidating_backup_codes_twice_changes_state_once(sandbox, google):
    """Google answers 204 every time; the effect log says the second call changed nothing, so a
    step repeated after a lost worker is not counted as a duplicated state change."""
    for _ in range(2):
        assert google.post(f"/users/{ALICE}/verificationCodes/invalidate").status_code == 204
    invalidations = [e for e in sandbox.effects("google") if e["path"].endswith("/invalidate")]
    assert [e["applied"] for e in invalidations] == [True, False]


def test_google_mobile_devices_match_discovery(sandbox, google):
    listing = google.get("/customer/my_customer/devices/mobile", params={"query": f"email:{ALICE}"})
    specs.check_google("directory.mobiledevices.list", listing.status_code, listing.json())
    device = listing.json()["mobiledevices"][0]
    resp = google.post(
        f"/customer/my_customer/devices/mobile/{device['resourceId']}/action",
        json={"action": "admin_account_wipe"},
    )
    specs.check_google("directory.mobiledevices.action", resp.status_code, _body(resp))
    assert (
        sandbox.person(ALICE)["google"]["mobile_devices"][device["resourceId"]] == "ACCOUNT_WIPING"
    )
    bad = google.post(
        f"/customer/my_customer/devices/mobile/{device['resourceId']}/action",
        json={"action": "explode"},
    )
    assert bad.status_code == 400
    specs.check_google("directory.mobiledevices.action", 400, bad.json())


def test_google_missing_account_is_not_found(sandbox, google):
    resp = google.get("/users/carol.chen@acme.example")
    assert resp.status_code == 404 and resp.json()["error"]["errors"][0]["reason"] == "notFound"
    specs.check_google("directory.users.get", 404, resp.json())


@pytest.fixture
def zoom(sandbox):
    client = httpx.Client(base_url=sandbox.url("zoom"), headers=sandbox.headers("zoom"), timeout=5)
    yield client
    client.close()


def test_zoom_calls_match_spec(sandbox, zoom):
    resp = zoom.get(f"/users/{ALICE}")
    specs.check_openapi("zoom", "/users/{userId}", "get", resp.status_code, resp.json())
    zid = resp.json()["id"]
    assert zoom.get(f"/users/{zid}").json()["email"] == ALICE
    resp = zoom.put(f"/users/{zid}/status", json={"action": "deactivate"})
    specs.check_openapi("zoom", "/users/{userId}/status", "put", resp.status_code, _body(resp))
    assert sandbox.person(ALICE)["zoom"]["status"] == "inactive"
    resp = zoom.delete(f"/users/{zid}/token")
    specs.check_openapi("zoom", "/users/{userId}/token", "delete", resp.status_code, _body(resp))
    missing = zoom.get("/users/bob.brandt@acme.example")
    specs.check_openapi("zoom", "/users/{userId}", "get", missing.status_code, missing.json())
    assert missing.json() == {
        "code": 1001,
        "message": "User does not exist: bob.brandt@acme.example.",
    }


@pytest.fixture
def graph(sandbox):
    client = httpx.Client(
        base_url=sandbox.url("graph"), headers=sandbox.headers("graph"), timeout=5
    )
    yield client
    client.close()


def test_graph_select_patch_revoke_devices_match_spec(sandbox, graph):
    default = graph.get(f"/users/{ALICE}")
    specs.check_openapi("graph", "/users/{user-id}", "get", 200, default.json())
    assert "accountEnabled" not in default.json()
    selected = graph.get(
        f"/users/{ALICE}", params={"$select": "id,accountEnabled,signInSessionsValidFromDateTime"}
    )
    specs.check_openapi("graph", "/users/{user-id}", "get", 200, selected.json())
    assert selected.json()["accountEnabled"] is True and "displayName" not in selected.json()
    resp = graph.patch(f"/users/{ALICE}", json={"accountEnabled": False})
    specs.check_openapi("graph", "/users/{user-id}", "patch", resp.status_code, _body(resp))
    before = selected.json()["signInSessionsValidFromDateTime"]
    resp = graph.post(f"/users/{ALICE}/revokeSignInSessions")
    specs.check_openapi(
        "graph", "/users/{user-id}/revokeSignInSessions", "post", resp.status_code, resp.json()
    )
    assert resp.json()["value"] is True
    after = graph.get(
        f"/users/{ALICE}", params={"$select": "signInSessionsValidFromDateTime"}
    ).json()
    assert after["signInSessionsValidFromDateTime"] > before
    devices = graph.get(f"/users/{ALICE}/registeredDevices")
    specs.check_openapi("graph", "/users/{user-id}/registeredDevices", "get", 200, devices.json())
    device_id = devices.json()["value"][0]["id"]
    resp = graph.patch(f"/devices/{device_id}", json={"accountEnabled": False})
    specs.check_openapi("graph", "/devices/{device-id}", "patch", resp.status_code, _body(resp))
    assert sandbox.person(ALICE)["graph"]["devices"][device_id] is False


def test_graph_hybrid_user_cannot_be_disabled_in_cloud(sandbox, graph):
    resp = graph.patch("/users/dan.dalton@acme.example", json={"accountEnabled": False})
    specs.check_openapi("graph", "/users/{user-id}", "patch", resp.status_code, resp.json())
    assert resp.status_code == 400 and "on-premises mastered" in resp.json()["error"]["message"]
    assert sandbox.person("dan.dalton@acme.example")["graph"]["accountEnabled"] is True
    missing = graph.get("/users/nobody@acme.example")
    specs.check_openapi("graph", "/users/{user-id}", "get", 404, missing.json())
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_okta_reinstate_adds_back_to_a_group_and_assigns_an_app(sandbox, okta):
    """Issue 13: the calls reinstate makes, validated against the spec and the sandbox's state."""
    uid = sandbox.person(ALICE)["okta"]["id"]
    groups = {g["profile"]["name"]: g for g in okta.get(f"/users/{uid}/groups").json()}
    dept, app_group = groups["Engineering"], groups["AD Domain Users"]
    assert okta.delete(f"/groups/{dept['id']}/users/{uid}").status_code == 204
    for _ in range(2):  # idempotent: a member already is one
        added = okta.put(f"/groups/{dept['id']}/users/{uid}")
        _okta_check(added, "/groups/{groupId}/users/{userId}", "PUT")
        assert added.status_code == 204
    assert "Engineering" in sandbox.person(ALICE)["okta"]["groups"]
    refused = okta.put(f"/groups/{app_group['id']}/users/{uid}")
    _okta_check(refused, "/groups/{groupId}/users/{userId}", "PUT")
    assert refused.status_code == 403
    link = okta.get(f"/users/{uid}/appLinks").json()[0]
    app_id = link["appInstanceId"]
    assert okta.delete(f"/apps/{app_id}/users/{uid}").status_code == 204
    assigned = okta.post(f"/apps/{app_id}/users", json={"id": uid, "scope": "USER"})
    _okta_check(assigned, "/apps/{appId}/users", "POST")
    assert assigned.status_code == 200 and assigned.json()["id"] == uid
    assert app_id in {a["appInstanceId"] for a in okta.get(f"/users/{uid}/appLinks").json()}
    missing = okta.post(
        f"/apps/{app_id}/users", json={"id": "00uNoSuchUser000000", "scope": "USER"}
    )
    _okta_check(missing, "/apps/{appId}/users", "POST")
    assert missing.status_code == 404
