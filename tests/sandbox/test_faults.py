"""Fault switches, rate-limit headers and 429s, and the effect log."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox import specs

ALICE = "alice.anders@acme.example"


@pytest.fixture
def okta(sandbox):
    with httpx.Client(
        base_url=sandbox.url("okta"), headers=sandbox.headers("okta"), timeout=5
    ) as client:
        yield client


def test_latency_is_added(sandbox, okta):
    start = time.perf_counter()
    okta.get(f"/users/{ALICE}")
    baseline = time.perf_counter() - start
    sandbox.set_fault("okta", latency_ms=300, jitter_ms=50)
    start = time.perf_counter()
    assert okta.get(f"/users/{ALICE}").status_code == 200
    elapsed = time.perf_counter() - start
    assert 0.3 <= elapsed < 0.3 + 0.05 + baseline + 0.2


def test_error_rate_is_deterministic_and_applies_nothing(sandbox, okta):
    def run() -> list[int]:
        sandbox.reset()
        sandbox.set_fault("okta", error_rate=0.5)
        return [okta.get(f"/users/{ALICE}").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert {500, 503} & set(first) and 200 in first
    sandbox.set_fault("okta", error_rate=1.0)
    resp = okta.post(f"/users/{ALICE}/lifecycle/suspend")
    assert resp.status_code in (500, 503) and resp.json()["errorCode"] in ("E0000009", "E0000010")
    assert sandbox.person(ALICE)["okta"]["status"] == "ACTIVE"
    assert sandbox.effects("okta")[-1] | {"time": None, "seq": None} == {
        "system": "okta",
        "method": "POST",
        "path": "/okta/api/v1/users/alice.anders@acme.example/lifecycle/suspend",
        "status": resp.status_code,
        "applied": False,
        "fault": "error_rate",
        "time": None,
        "seq": None,
    }


@pytest.mark.parametrize("system", ["okta", "google", "zoom", "graph"])
def test_burst_429_in_each_api_shape(sandbox, system):
    headers = sandbox.headers(system)
    sandbox.set_fault(system, burst_429={"count": 2, "retry_after": 7})
    url = sandbox.url(system, f"/users/{ALICE}")
    first, second, third = (httpx.get(url, headers=headers) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "7"
    body = first.json()
    if system == "okta":
        assert body["errorCode"] == "E0000047" and first.headers["X-Rate-Limit-Remaining"] == "0"
        specs.check_openapi("okta", "/users/{id}", "get", 429, body)
    elif system == "google":
        assert body["error"]["code"] == 429
    elif system == "zoom":
        assert body["code"] == 429 and first.headers["X-RateLimit-Category"] == "Light"
        specs.check_openapi("zoom", "/users/{userId}", "get", 429, body)
    else:
        assert body["error"]["code"] == "TooManyRequests"
        specs.check_openapi("graph", "/users/{user-id}", "get", 429, body)


def test_okta_rate_limit_headers_and_bucket(sandbox, okta):
    first = okta.get(f"/users/{ALICE}")
    second = okta.get(f"/users/{ALICE}")
    assert (
        int(second.headers["X-Rate-Limit-Remaining"])
        == int(first.headers["X-Rate-Limit-Remaining"]) - 1
    )
    assert int(first.headers["X-Rate-Limit-Reset"]) > time.time()
    sandbox.reset()
    sandbox.set_fault("okta", rate_limit_per_minute={"user_get": 3})
    codes = [okta.get(f"/users/{ALICE}").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert okta.get("/users", params={"limit": 1}).status_code == 200  # another family


def test_google_quota_is_a_403(sandbox):
    headers = sandbox.headers("google")
    sandbox.set_fault("google", rate_limit_per_minute=1)
    url = sandbox.url("google", f"/users/{ALICE}")
    assert httpx.get(url, headers=headers).status_code == 200
    resp = httpx.get(url, headers=headers)
    assert (
        resp.status_code == 403
        and resp.json()["error"]["errors"][0]["reason"] == "userRateLimitExceeded"
    )


def test_hang_never_answers_until_cleared(sandbox, okta):
    sandbox.set_fault("okta", hang=True)
    with pytest.raises(httpx.ReadTimeout):
        okta.get(f"/users/{ALICE}", timeout=0.5)
    sandbox.clear_faults()
    with httpx.Client(headers=sandbox.headers("okta"), timeout=5) as fresh:
        assert fresh.get(sandbox.url("okta", f"/users/{ALICE}")).status_code == 200


def test_apply_then_drop(sandbox):
    headers = sandbox.headers("zoom")
    sandbox.set_fault("zoom", apply_then_drop=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.put(
            sandbox.url("zoom", f"/users/{ALICE}/status"),
            json={"action": "deactivate"},
            headers=headers,
        )
    assert sandbox.person(ALICE)["zoom"]["status"] == "inactive"
    entry = sandbox.effects("zoom")[-1]
    assert entry["applied"] is True and entry["fault"] == "apply_then_drop"
    again = httpx.put(
        sandbox.url("zoom", f"/users/{ALICE}/status"),
        json={"action": "deactivate"},
        headers=headers,
    )
    assert again.status_code == 204 and sandbox.effects("zoom")[-1]["applied"] is False


def test_faults_through_control_api(sandbox):
    control = sandbox.base_url + "/_sandbox/faults"
    resp = httpx.put(control, json={"system": "all", "error_rate": 1.0})
    assert resp.status_code == 200 and all(v["error_rate"] == 1.0 for v in resp.json().values())
    assert httpx.put(control, json={"system": "okta", "nonsense": 1}).status_code == 400
    assert httpx.put(control, json={"system": "okta", "error_rate": 2}).status_code == 400
    assert httpx.delete(control).status_code == 204
    assert httpx.get(control).json()["graph"]["error_rate"] == 0.0


def test_effect_log_counts_exactly_the_state_changing_calls(sandbox, okta):
    uid = sandbox.person(ALICE)["okta"]["id"]
    okta.get(f"/users/{uid}")
    okta.post(f"/users/{uid}/lifecycle/suspend")
    okta.post(f"/users/{uid}/lifecycle/suspend")
    okta.delete(f"/users/{uid}/sessions")
    entries = sandbox.effects("okta")
    assert [(e["method"], e["status"], e["applied"]) for e in entries] == [
        ("POST", 200, True),
        ("POST", 400, False),
        ("DELETE", 204, True),
    ]
    since = entries[0]["seq"]
    over_http = httpx.get(
        sandbox.base_url + "/_sandbox/effects", params={"since": since, "system": "okta"}
    ).json()
    assert [e["seq"] for e in over_http["effects"]] == [e["seq"] for e in entries[1:]]
    assert httpx.delete(sandbox.base_url + "/_sandbox/effects").status_code == 204
    assert sandbox.effects() == []
