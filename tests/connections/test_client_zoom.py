"""ZoomClient against Zoom-shaped payloads (spec: zoom.json, CONTRACTS.md §3)."""

from __future__ import annotations

import base64

import httpx
import pytest

from connections.providers.zoom.client import ZoomClient
from connections.types import ConnectorError, Outcome

from .conftest import CANARY, json_of, token_response

TOKEN = "https://zoom.us/oauth/token"
USERS = "https://api.zoom.us/v2/users"
MISSING = httpx.Response(404, json={"code": 1001, "message": "User does not exist: ann@acme.com."})


@pytest.fixture
def client(zoom_config, router, transport):
    router.post(TOKEN).mock(return_value=token_response("z-token"))
    return ZoomClient(zoom_config, transport=transport)


def _user(router, status="active"):
    return router.get(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(
            200, json={"id": "z1", "email": "ann@acme.com", "status": status}
        )
    )


def test_account_credentials_grant_uses_basic_auth_and_query(client, router):
    _user(router)
    client.get_user("ann@acme.com")
    request = router.routes[0].calls[0].request
    assert request.url.params["grant_type"] == "account_credentials"
    assert request.url.params["account_id"] == "acc1"
    expected = base64.b64encode(f"zc1:{CANARY}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert router.routes[1].calls[0].request.headers["Authorization"] == "Bearer z-token"


def _api_calls(router) -> list[tuple[str, str]]:
    return [
        (c.request.method, c.request.url.path)
        for c in router.calls
        if not str(c.request.url).startswith(TOKEN)
    ]


def test_deactivate_is_one_put_by_email(client, router):
    read = _user(router)
    route = router.put(f"{USERS}/ann@acme.com/status").mock(return_value=httpx.Response(204))
    assert client.deactivate_user("ann@acme.com").outcome == Outcome.DONE
    assert json_of(route.calls[0].request) == {"action": "deactivate"}
    assert not read.called
    assert _api_calls(router) == [("PUT", "/v2/users/ann@acme.com/status")]


def test_deactivate_inactive_user_answered_204_is_done(client, router):
    # What Zoom answers for a repeat is undocumented; a 204 cannot tell, so it is reported done.
    route = router.put(f"{USERS}/ann@acme.com/status").mock(return_value=httpx.Response(204))
    assert client.deactivate_user("ann@acme.com").outcome == Outcome.DONE
    assert route.call_count == 1


def test_deactivate_refused_then_read_as_inactive_is_already_done(client, router):
    router.put(f"{USERS}/ann@acme.com/status").mock(
        return_value=httpx.Response(400, json={"code": 300, "message": "Already deactivated."})
    )
    read = _user(router, "inactive")
    result = client.deactivate_user("ann@acme.com")
    assert result.outcome == Outcome.ALREADY_DONE and read.call_count == 1


def test_deactivate_refused_then_read_as_active_raises_zoom_words(client, router):
    router.put(f"{USERS}/ann@acme.com/status").mock(
        return_value=httpx.Response(
            400, json={"code": 200, "message": "Can not change the status of the account owner."}
        )
    )
    _user(router, "active")
    with pytest.raises(ConnectorError) as info:
        client.deactivate_user("ann@acme.com")
    assert info.value.message == "Zoom: Can not change the status of the account owner. (200)"
    assert not info.value.retryable


def test_deactivate_rate_limited_is_not_followed_by_a_read(client, router):
    router.put(f"{USERS}/ann@acme.com/status").mock(
        return_value=httpx.Response(429, json={"code": 429, "message": "Too many"})
    )
    read = _user(router)
    with pytest.raises(ConnectorError) as info:
        client.deactivate_user("ann@acme.com")
    assert info.value.retryable and not read.called


def test_activate(client, router):
    route = router.put(f"{USERS}/ann@acme.com/status").mock(return_value=httpx.Response(204))
    assert client.activate_user("ann@acme.com").outcome == Outcome.DONE
    assert json_of(route.calls[0].request) == {"action": "activate"}


def test_missing_user_is_no_account_and_error_in_words(client, router):
    router.put(f"{USERS}/ann@acme.com/status").mock(return_value=MISSING)
    router.get(f"{USERS}/ann@acme.com").mock(return_value=MISSING)
    assert client.deactivate_user("ann@acme.com").outcome == Outcome.NO_ACCOUNT
    assert [m for m, _ in _api_calls(router)] == ["PUT"]  # code 1001 says it: no read
    with pytest.raises(ConnectorError) as info:
        client.get_user("ann@acme.com")
    assert info.value.message == "Zoom: user not found (1001)"


def test_revoke_token(client, router):
    route = router.delete(f"{USERS}/ann@acme.com/token").mock(return_value=httpx.Response(204))
    assert client.revoke_token("ann@acme.com").outcome == Outcome.DONE and route.called


def test_revoke_token_missing_user_is_no_account(client, router):
    router.delete(f"{USERS}/ann@acme.com/token").mock(return_value=MISSING)
    assert client.revoke_token("ann@acme.com").outcome == Outcome.NO_ACCOUNT


def test_rate_limit_honours_retry_after(client, router):
    router.get(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(
            429,
            json={
                "code": 429,
                "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
            },
            headers={
                "Retry-After": "2",
                "X-RateLimit-Category": "Light",
                "X-RateLimit-Type": "QPS",
            },
        )
    )
    with pytest.raises(ConnectorError) as info:
        client.get_user("ann@acme.com")
    assert info.value.retryable and info.value.retry_after == 2.0 and info.value.status == 429


def test_a_401_with_invalid_token_refetches_once(client, router):
    router.get(f"{USERS}/ann@acme.com").mock(
        side_effect=[
            httpx.Response(401, json={"code": 124, "message": "Invalid access token."}),
            httpx.Response(200, json={"id": "z1", "status": "active"}),
        ]
    )
    assert client.get_user("ann@acme.com")["id"] == "z1"
    assert router.routes[0].call_count == 2


def test_test_connection_reads_me(client, router):
    route = router.get(f"{USERS}/me").mock(
        return_value=httpx.Response(200, json={"id": "z0", "status": "active"})
    )
    assert "users can be read" in client.test_connection() and route.called
