"""The sandbox's reads a bulk preview makes: many logins in one search expression (answered from
the email index, as the scan would answer it), and a group's members page by page."""

from __future__ import annotations

import re

import httpx
import pytest

from connections.sandbox import data
from connections.sandbox.okta import users


def _next(resp: httpx.Response) -> str | None:
    found = re.search(r'<([^>]+)>; rel="next"', resp.headers.get("Link", ""))
    return found.group(1) if found else None


@pytest.fixture
def okta(sandbox):
    headers = {"Authorization": f"SSWS {sandbox.credentials['okta']['api_token']}"}
    with httpx.Client(headers=headers, timeout=10) as client:
        yield client


def _ids(okta, url: str) -> list[str]:
    seen: list[str] = []
    next_url: str | None = url
    while next_url:
        resp = okta.get(next_url)
        assert resp.status_code == 200, resp.text
        seen += [u["id"] for u in resp.json()]
        next_url = _next(resp)
    return seen


@pytest.mark.parametrize(
    "expression",
    [
        'profile.login eq "ALICE.ANDERS@acme.example" or profile.email eq "frank.fischer@acme.example"',
        'profile.login eq "nobody@acme.example"',
        " or ".join(f'profile.email eq "{e}"' for e in ("bob.brandt@acme.example",) * 3),
    ],
)
def test_many_logins_in_one_search_answer_as_the_scan_does(sandbox, okta, monkeypatch, expression):
    url = sandbox.url("okta", "/users")
    fast = _ids(okta, httpx.URL(url, params={"search": expression, "limit": 1}).__str__())
    monkeypatch.setattr(users, "_exact", lambda app, search: None)
    scanned = _ids(okta, httpx.URL(url, params={"search": expression, "limit": 1}).__str__())
    assert fast == scanned


def test_a_groups_members_come_page_by_page_and_only_its_members(sandbox, okta):
    sales = data.G_DEPT0 + 1
    gid = sandbox.org.ids.okta_group.make(sales)
    members = _ids(okta, sandbox.url("okta", f"/groups/{gid}/users?limit=7"))
    expected = [
        sandbox.org.ids.okta_user.make(i)
        for i in range(sandbox.org.n)
        if sandbox.org.dept[i] == 1 and sandbox.org.status[i] != data.DEPROVISIONED
    ]
    assert members == expected and len(members) > 7
    assert okta.get(sandbox.url("okta", "/groups/00gNope/users")).status_code == 404
