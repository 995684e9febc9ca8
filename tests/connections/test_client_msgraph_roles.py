"""Graph: the test connection lists users (no fallback), and the privileged-role read of the pre-flight."""

from __future__ import annotations

import httpx
import pytest

from connections.providers.msgraph.client import MicrosoftGraphClient
from connections.types import ConnectorError
from tests.connections.conftest import token_response

TOKEN = "https://login.microsoftonline.com/tenant1/oauth2/v2.0/token"
USERS = "https://graph.microsoft.com/v1.0/users"
ROLES = f"{USERS}/ann@acme.com/memberOf/microsoft.graph.directoryRole"


@pytest.fixture
def client(graph_config, router, transport):
    router.post(TOKEN).mock(return_value=token_response("m-token"))
    with MicrosoftGraphClient(graph_config, transport=transport) as c:
        yield c


def _user(router):
    router.get(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(
            200, json={"id": "u1", "userPrincipalName": "ann@acme.com", "accountEnabled": True}
        )
    )


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": "m"}})


def test_the_connection_test_lists_users_and_a_404_is_a_failure(client, router):
    listing = router.get(USERS).mock(
        return_value=httpx.Response(200, json={"value": [{"id": "u1"}]})
    )
    assert "listed users (1 returned)" in client.test_connection()
    assert listing.calls.last.request.url.params["$top"] == "1"
    listing.mock(return_value=_error(404, "Request_ResourceNotFound"))
    with pytest.raises(ConnectorError) as caught:
        client.test_connection()
    assert caught.value.status == 404
    assert len(router.calls) == 3  # token, list, list: no probe of a made-up user id


def test_a_privileged_person_gets_a_preflight_warning(client, router):
    _user(router)
    router.get(ROLES).mock(
        return_value=httpx.Response(
            200,
            json={"value": [{"id": "r1", "displayName": "Global Administrator"}]},
        )
    )
    state = client.account_state("ann@acme.com")
    assert "Global Administrator" in state.detail and "403" in state.detail


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"value": [{"id": "r2", "displayName": "Reports Reader"}]}),
        _error(403, "Authorization_RequestDenied"),  # the app may not read roles: no warning
    ],
    ids=["unprivileged-role", "roles-not-readable"],
)
def test_no_warning_without_a_privileged_role(client, router, answer):
    _user(router)
    router.get(ROLES).mock(return_value=answer)
    assert client.account_state("ann@acme.com").detail == ""
