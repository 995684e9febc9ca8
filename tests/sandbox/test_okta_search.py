"""Okta list/search/filter/q semantics and cursor pagination to the end of a 1,000-user search."""

from __future__ import annotations

import re

import httpx
import pytest

from connections.sandbox.server import SandboxConfig, start_in_thread
from tests.sandbox import specs


@pytest.fixture(scope="module")
def big_sandbox(tmp_path_factory):
    server = start_in_thread(
        SandboxConfig(port=0, users=1200, seed=7, data_dir=tmp_path_factory.mktemp("big"))
    )
    yield server
    server.stop()


def _next(resp: httpx.Response) -> str | None:
    found = re.search(r'<([^>]+)>; rel="next"', resp.headers.get("Link", ""))
    return found.group(1) if found else None


def test_search_paginates_to_the_end(big_sandbox):
    headers = {"Authorization": f"SSWS {big_sandbox.app.credentials['okta']['api_token']}"}
    url = f"{big_sandbox.base_url}/okta/api/v1/users?search=id pr&limit=200"
    seen, pages = [], 0
    with httpx.Client(headers=headers, timeout=10) as client:
        while url:
            resp = client.get(url)
            assert resp.status_code == 200
            specs.check_openapi("okta", "/users", "get", 200, resp.json()[:3])
            seen += [u["id"] for u in resp.json()]
            pages += 1
            url = _next(resp)
    assert len(seen) == len(set(seen)) == 1200  # search includes DEPROVISIONED
    assert pages == 6


def test_plain_listing_omits_deprovisioned_and_search_includes_them(big_sandbox):
    headers = {"Authorization": f"SSWS {big_sandbox.app.credentials['okta']['api_token']}"}
    base = f"{big_sandbox.base_url}/okta/api/v1/users"
    with httpx.Client(headers=headers, timeout=10) as client:
        listed = []
        url = base
        while url:
            resp = client.get(url)
            listed += resp.json()
            url = _next(resp)
        assert listed and all(u["status"] != "DEPROVISIONED" for u in listed)
        gone = client.get(base, params={"search": 'status eq "DEPROVISIONED"', "limit": 200}).json()
        assert gone and all(u["status"] == "DEPROVISIONED" for u in gone)
        assert len(listed) + len(gone) <= 1200


@pytest.fixture
def okta(sandbox):
    with httpx.Client(
        base_url=sandbox.url("okta"), headers=sandbox.headers("okta"), timeout=5
    ) as client:
        yield client


def test_q_is_starts_with_and_unpaginated(okta):
    resp = okta.get("/users", params={"q": "ali"})
    assert resp.status_code == 200
    assert any(u["profile"]["login"] == "alice.anders@acme.example" for u in resp.json())
    assert all(
        any(u["profile"][f].lower().startswith("ali") for f in ("firstName", "lastName", "email"))
        for u in resp.json()
    )
    assert len(resp.json()) <= 10 and 'rel="next"' not in resp.headers["Link"]
    assert okta.get("/users", params={"q": "frank.fischer"}).json() == []  # DEPROVISIONED omitted


def test_search_operators_and_grouping(okta):
    eq = okta.get(
        "/users", params={"search": 'profile.login eq "ALICE.ANDERS@acme.example"'}
    ).json()
    assert [u["profile"]["firstName"] for u in eq] == ["Alice"]
    co = okta.get("/users", params={"search": 'profile.email co "anders@"'}).json()
    assert "alice.anders@acme.example" in [u["profile"]["email"] for u in co]
    expr = '(profile.lastName sw "Anders" or profile.lastName sw "Brandt") and status eq "ACTIVE"'
    both = okta.get("/users", params={"search": expr}).json()
    assert {u["profile"]["lastName"] for u in both} >= {"Anders", "Brandt"}
    assert all(u["status"] == "ACTIVE" for u in both)


def test_filter_allows_eq_on_status(okta):
    resp = okta.get("/users", params={"filter": 'status eq "SUSPENDED"', "limit": 50})
    assert resp.status_code == 200 and resp.json()
    assert all(u["status"] == "SUSPENDED" for u in resp.json())


@pytest.mark.parametrize(
    ("param", "expr"),
    [
        ("search", 'profile.login eq "unterminated'),
        ("search", '(status eq "ACTIVE"'),
        ("search", 'status ne "ACTIVE"'),
        ("search", 'status co "ACT"'),
        ("search", "and and"),
        ("filter", 'profile.login sw "a"'),
        ("filter", 'profile.department eq "Sales"'),
    ],
)
def test_malformed_expressions_give_okta_400(okta, param, expr):
    resp = okta.get("/users", params={param: expr})
    assert resp.status_code == 400
    body = resp.json()
    assert body["errorCode"] == "E0000031" and body["errorCauses"]
    specs.check_openapi("okta", "/users", "get", 403, body)  # the shared Error schema


def test_limit_and_bad_cursor(okta):
    assert len(okta.get("/users", params={"limit": 3}).json()) == 3
    assert okta.get("/users", params={"limit": "abc"}).status_code == 400
    assert okta.get("/users", params={"after": "garbage"}).status_code == 400
