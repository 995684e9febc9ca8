"""The spec-checking transport the connector tests run behind: it refuses undocumented call shapes."""

from __future__ import annotations

import httpx
import pytest

from connections.providers.okta.dpop import DpopSigner, new_key_pem
from tests.spec_transport import CallShapeError, SpecTransport, check_request

OKTA = "https://acme.okta.com"


def _request(method: str, url: str, **kwargs) -> httpx.Request:
    return httpx.Request(method, url, **kwargs)


@pytest.mark.parametrize(
    "request_",
    [
        _request("GET", f"{OKTA}/api/v1/users", params={"q": "ann", "limit": 5}),
        _request("GET", f"{OKTA}/api/v1/users/ann%2Fx%40acme.com"),
        _request("POST", f"{OKTA}/api/v1/users/00u1/lifecycle/suspend"),
        _request(
            "PATCH", "https://graph.microsoft.com/v1.0/users/u1", json={"accountEnabled": False}
        ),
        _request(
            "GET", "https://graph.microsoft.com/v1.0/users", params={"$top": 1, "$select": "id"}
        ),
        _request(
            "GET",
            "https://admin.googleapis.com/admin/directory/v1/users",
            params={"customer": "my_customer"},
        ),
        _request("DELETE", "https://api.zoom.us/v2/users/z1/token"),
    ],
    ids=[
        "okta-list",
        "okta-encoded-login",
        "okta-suspend",
        "graph-patch",
        "graph-list",
        "google-list",
        "zoom-token",
    ],
)
def test_documented_call_shapes_pass(request_):
    check_request(request_)


@pytest.mark.parametrize(
    "request_, words",
    [
        (_request("GET", f"{OKTA}/api/v1/people"), "not in okta.yaml"),
        (_request("PUT", f"{OKTA}/api/v1/users/00u1/lifecycle/suspend"), "only ['POST']"),
        (_request("GET", f"{OKTA}/api/v1/users/00u1", params={"expand": "x", "bogus": 1}), "bogus"),
        (
            _request(
                "PATCH", "https://graph.microsoft.com/v1.0/users/u1", json={"accountEnabled": "no"}
            ),
            "not of type",
        ),
        (
            _request(
                "GET",
                "https://admin.googleapis.com/admin/directory/v1/users",
                params={"pageSize": 5},
            ),
            "pageSize",
        ),
        (
            _request(
                "POST", f"{OKTA}/oauth2/v1/token", data={"grant_type": "password", "scope": "x"}
            ),
            "grant_type",
        ),
        (_request("GET", "https://example.com/whatever"), "no API spec"),
    ],
    ids=[
        "unknown-path",
        "wrong-method",
        "unknown-param",
        "bad-body",
        "google-param",
        "grant",
        "no-spec",
    ],
)
def test_undocumented_call_shapes_fail(request_, words):
    with pytest.raises(Exception) as caught:
        check_request(request_)
    assert words in str(caught.value)


def test_dpop_proofs_are_checked_for_the_request_they_ride_on():
    signer = DpopSigner(new_key_pem())
    url = f"{OKTA}/api/v1/users/00u1"
    good = signer.proof("GET", url, server="api", access_token="at")
    check_request(_request("GET", url, headers={"Authorization": "DPoP at", "DPoP": good}))
    other = signer.proof("GET", f"{OKTA}/api/v1/users", server="api", access_token="at")
    with pytest.raises(CallShapeError, match="htu"):
        check_request(_request("GET", url, headers={"Authorization": "DPoP at", "DPoP": other}))
    with pytest.raises(CallShapeError, match="DPoP scheme"):
        check_request(_request("GET", url, headers={"Authorization": "Bearer at", "DPoP": good}))


def test_the_transport_checks_before_it_sends():
    sent: list[httpx.Request] = []
    transport = SpecTransport(httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204)))
    with httpx.Client(transport=transport) as client:
        client.post(f"{OKTA}/api/v1/users/00u1/lifecycle/suspend")
        with pytest.raises(CallShapeError):
            client.post(f"{OKTA}/api/v1/users/00u1/lifecycle/explode")
    assert len(sent) == 1 and transport.checked == 1
