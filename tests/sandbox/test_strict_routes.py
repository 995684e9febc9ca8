"""The routes and documents added to make the sandbox as strict as the real APIs, checked against the specs."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
import pytest

from tests.sandbox import specs

ALICE = "alice.anders@acme.example"
KIM = "kim.kowalski@acme.example"  # Entra Global Administrator


@pytest.fixture
def graph(sandbox):
    client = httpx.Client(
        base_url=sandbox.url("graph"), headers=sandbox.headers("graph"), timeout=5
    )
    yield client
    client.close()


@pytest.fixture
def google(sandbox):
    client = httpx.Client(
        base_url=sandbox.url("google"), headers=sandbox.headers("google"), timeout=5
    )
    yield client
    client.close()


def test_graph_list_users_pages_selects_and_filters(sandbox, graph):
    first = graph.get(
        "/users", params={"$top": 5, "$select": "id,userPrincipalName,accountEnabled"}
    )
    specs.check_openapi("graph", "/users", "get", 200, first.json())
    page = first.json()
    assert len(page["value"]) == 5 and set(page["value"][0]) == {
        "id",
        "userPrincipalName",
        "accountEnabled",
    }
    next_link = page["@odata.nextLink"]
    assert urlsplit(next_link).path.endswith("/graph/v1.0/users")
    second = graph.get(next_link)
    specs.check_openapi("graph", "/users", "get", 200, second.json())
    ids = {u["id"] for u in page["value"]} | {u["id"] for u in second.json()["value"]}
    assert len(ids) == 10  # no overlap between pages

    found = graph.get("/users", params={"$filter": f"userPrincipalName eq '{ALICE}'"})
    specs.check_openapi("graph", "/users", "get", 200, found.json())
    assert [u["userPrincipalName"] for u in found.json()["value"]] == [ALICE]
    assert "accountEnabled" not in found.json()["value"][0]  # not in the default projection
    starts = graph.get("/users", params={"$filter": "startswith(displayName,'Kim')", "$top": 999})
    assert KIM in [u["userPrincipalName"] for u in starts.json()["value"]]


@pytest.mark.parametrize(
    "params, headers, code",
    [
        ({"$top": "0"}, {}, "Request_BadRequest"),
        ({"$select": "nonsense"}, {}, "Request_BadRequest"),
        ({"$filter": "endswith(mail,'acme.example')"}, {}, "Request_UnsupportedQuery"),
        ({"$search": '"displayName:kim"'}, {}, "Request_BadRequest"),
        ({"$count": "true"}, {}, "Request_BadRequest"),
    ],
    ids=[
        "top-0",
        "unknown-property",
        "endswith",
        "search-without-eventual",
        "count-without-eventual",
    ],
)
def test_graph_list_users_refuses_what_graph_refuses(graph, params, headers, code):
    resp = graph.get("/users", params=params, headers=headers)
    specs.check_openapi("graph", "/users", "get", 400, resp.json())
    assert resp.status_code == 400 and resp.json()["error"]["code"] == code


def test_graph_privileged_person_needs_a_privileged_role_on_the_app(sandbox, graph):
    roles = graph.get(f"/users/{KIM}/memberOf/microsoft.graph.directoryRole")
    path = "/users/{user-id}/memberOf/microsoft.graph.directoryRole"
    specs.check_openapi("graph", path, "get", 200, roles.json())
    assert [r["displayName"] for r in roles.json()["value"]] == ["Global Administrator"]
    plain = graph.get(f"/users/{ALICE}/memberOf/microsoft.graph.directoryRole")
    assert plain.json()["value"] == []

    refused = graph.patch(f"/users/{KIM}", json={"accountEnabled": False})
    specs.check_openapi("graph", "/users/{user-id}", "patch", 403, refused.json())
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert (
        refused.json()["error"]["message"] == "Insufficient privileges to complete the operation."
    )
    assert sandbox.person(KIM)["graph"]["accountEnabled"] is True
    assert sandbox.effects("graph")[-1]["applied"] is False

    control = sandbox.url("control", "/apps/graph")
    assert httpx.put(control, json={"directory_role": "Emperor"}).status_code == 400
    httpx.put(control, json={"directory_role": "Privileged Authentication Administrator"})
    allowed = graph.patch(f"/users/{KIM}", json={"accountEnabled": False})
    assert allowed.status_code == 204 and sandbox.person(KIM)["graph"]["accountEnabled"] is False


def test_graph_permissions_come_from_the_app_grants(sandbox):
    httpx.put(sandbox.url("control", "/apps/graph"), json={"roles": ["User.Read.All"]})
    graph = httpx.Client(base_url=sandbox.url("graph"), headers=sandbox.headers("graph"))
    refused = graph.patch(f"/users/{ALICE}", json={"accountEnabled": False})
    assert (
        refused.status_code == 403
        and refused.json()["error"]["code"] == "Authorization_RequestDenied"
    )
    roles = graph.get(f"/users/{ALICE}/memberOf/microsoft.graph.directoryRole")
    assert roles.status_code == 403
    graph.close()


def test_graph_429_carries_the_documented_throttling_headers(sandbox, graph):
    sandbox.set_fault("graph", burst_429={"count": 1, "retry_after": 2})
    resp = graph.get(f"/users/{ALICE}")
    specs.check_openapi("graph", "/users/{user-id}", "get", 429, resp.json())
    specs.check_headers("graph", "/users/{user-id}", "get", 429, resp.headers)
    assert resp.headers["Retry-After"] == "2" and resp.headers["x-ms-throttle-scope"]


def test_graph_tenant_discovery_document(sandbox):
    tenant = sandbox.credentials["graph"]["tenant_id"]
    base = f"{sandbox.base_url}/graph/login/{tenant}"
    doc = httpx.get(f"{base}/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == sandbox.token_url("graph")
    assert doc["issuer"] == f"{base}/v2.0" and doc["jwks_uri"] == f"{base}/discovery/v2.0/keys"
    assert {"client_secret_post", "private_key_jwt"} <= set(
        doc["token_endpoint_auth_methods_supported"]
    )
    assert httpx.get(doc["jwks_uri"]).json() == {"keys": []}
    unknown = httpx.get(
        f"{sandbox.base_url}/graph/login/nope/v2.0/.well-known/openid-configuration"
    )
    assert unknown.status_code == 400 and "AADSTS90002" in unknown.json()["error_description"]
    specs.check_oauth_error(unknown.json())


def test_msal_discovers_the_tenant_and_gets_a_token(sandbox):
    """MSAL (https only) through a stand-in for TLS: https://login.sandbox.test → the sandbox."""
    import msal
    import requests

    real = f"{sandbox.base_url}/graph/login"
    fake = "https://login.sandbox.test"

    class Tls(requests.Session):
        def request(self, method, url, *args, **kwargs):
            response = super().request(method, url.replace(fake, real), *args, **kwargs)
            response._content = response.content.replace(real.encode(), fake.encode())
            return response

    graph = sandbox.credentials["graph"]
    app = msal.ConfidentialClientApplication(
        graph["client_id"],
        client_credential=graph["client_secret"],
        authority=f"{fake}/{graph['tenant_id']}",
        http_client=Tls(),
        instance_discovery=False,
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert result.get("token_type") == "Bearer", json.dumps(result)[:300]
    resp = httpx.get(
        sandbox.url("graph", f"/users/{ALICE}"),
        headers={"Authorization": f"Bearer {result['access_token']}"},
    )
    assert resp.status_code == 200


def test_okta_org_authorization_server_metadata(sandbox):
    org = f"{sandbox.base_url}/okta"
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        doc = httpx.get(org + path).json()
        assert doc["issuer"] == org and doc["token_endpoint"] == sandbox.token_url("okta")
        assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
        assert {"ES256", "RS256"} <= set(doc["dpop_signing_alg_values_supported"])


def test_google_users_list(sandbox, google):
    params = {"customer": "my_customer", "maxResults": 3, "query": "email:alice*"}
    specs.check_google_list("directory.users.list", params)
    resp = google.get("/users", params=params)
    specs.check_google("directory.users.list", resp.status_code, resp.json())
    assert [u["primaryEmail"] for u in resp.json()["users"]][:1] == [ALICE]
    page = google.get("/users", params={"customer": "my_customer", "maxResults": 4})
    specs.check_google("directory.users.list", 200, page.json())
    token = page.json()["nextPageToken"]
    more = google.get(
        "/users", params={"customer": "my_customer", "maxResults": 4, "pageToken": token}
    )
    first = {u["id"] for u in page.json()["users"]}
    assert len(page.json()["users"]) == 4 and not first & {u["id"] for u in more.json()["users"]}
    for bad in (
        {},
        {"customer": "my_customer", "maxResults": 0},
        {"customer": "my_customer", "query": "x"},
    ):
        resp = google.get("/users", params=bad)
        assert resp.status_code == 400
        specs.check_google("directory.users.list", resp.status_code, resp.json())
