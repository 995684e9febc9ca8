"""The shared client base: auth, token cache, 401 retry, errors, timeouts, paging, call records."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import jwt
import pytest

from connections.providers.errors import parse_retry_after
from connections.providers.http import DEFAULT_TIMEOUT
from connections.providers.okta.client import OktaClient
from connections.providers.tokens import TOKEN_CACHE
from connections.types import ConnectorError, capture_calls

from .conftest import CANARY, form_of, okta_error, okta_user, token_response

TOKEN = "https://acme.okta.com/oauth2/v1/token"
API = "https://acme.okta.com/api/v1"


def test_http_client_is_configured_safely(okta_config):
    client = OktaClient(okta_config())
    http = client._http
    assert http.follow_redirects is False
    assert http._trust_env is False
    assert DEFAULT_TIMEOUT.read is not None and DEFAULT_TIMEOUT.read < 60
    assert all(
        v is not None
        for v in (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.write, DEFAULT_TIMEOUT.pool)
    )
    assert http.timeout.read == DEFAULT_TIMEOUT.read


def test_read_timeout_follows_the_portal_http_timeout_setting(okta_config, settings):
    settings.PORTAL_HTTP_TIMEOUT = 7.5
    assert OktaClient(okta_config())._http.timeout.read == 7.5


def test_oauth_token_is_fetched_with_a_signed_client_assertion_and_cached(
    okta_config, router, transport
):
    token_route = router.post(TOKEN).mock(return_value=token_response("tok-A"))
    users = router.get(f"{API}/users/00u1").mock(return_value=httpx.Response(200, json=okta_user()))
    client = OktaClient(okta_config(scopes=["okta.users.read"]), transport=transport)
    client.get_user("00u1")
    client.get_user("00u1")
    assert token_route.call_count == 1
    assert users.call_count == 2
    assert users.calls[0].request.headers["Authorization"] == "Bearer tok-A"
    form = form_of(token_route.calls[0].request)
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "okta.users.read"
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    header = jwt.get_unverified_header(form["client_assertion"])
    claims = jwt.decode(form["client_assertion"], options={"verify_signature": False})
    assert header["kid"] == "kid1" and header["alg"] == "RS256"
    assert claims["iss"] == claims["sub"] == "0oa1"
    assert claims["aud"] == TOKEN
    assert claims["exp"] - claims["iat"] <= 3600


def test_cached_token_is_dropped_shortly_before_expiry(okta_config, router, transport):
    token_route = router.post(TOKEN).mock(return_value=token_response("short", expires_in=30))
    router.get(f"{API}/users/00u1").mock(return_value=httpx.Response(200, json=okta_user()))
    client = OktaClient(okta_config(), transport=transport)
    client.get_user("00u1")
    client.get_user("00u1")
    assert token_route.call_count == 2  # 30 s is inside the safety margin: never reused


def test_token_cache_is_keyed_by_secret_version(okta_config, router, transport):
    token_route = router.post(TOKEN).mock(return_value=token_response())
    router.get(f"{API}/users/00u1").mock(return_value=httpx.Response(200, json=okta_user()))
    first = okta_config()
    OktaClient(first, transport=transport).get_user("00u1")
    from dataclasses import replace

    OktaClient(replace(first, secret_version=2), transport=transport).get_user("00u1")
    assert token_route.call_count == 2


def test_token_cache_is_keyed_by_settings_too(okta_config, router, transport):
    token_route = router.post(TOKEN).mock(return_value=token_response())
    router.get(f"{API}/users/00u1").mock(return_value=httpx.Response(200, json=okta_user()))
    OktaClient(okta_config(), transport=transport).get_user("00u1")
    OktaClient(okta_config(), transport=transport).get_user("00u1")
    assert token_route.call_count == 1
    OktaClient(okta_config(scopes=["okta.users.read"]), transport=transport).get_user("00u1")
    assert token_route.call_count == 2


def test_a_401_fetches_a_new_token_once_then_succeeds(okta_config, router, transport):
    token_route = router.post(TOKEN).mock(
        side_effect=[token_response("old"), token_response("new")]
    )
    route = router.get(f"{API}/users/00u1").mock(
        side_effect=[httpx.Response(401, json={}), httpx.Response(200, json=okta_user())]
    )
    client = OktaClient(okta_config(), transport=transport)
    assert client.get_user("00u1")["id"] == "00u1"
    assert token_route.call_count == 2
    assert route.calls[1].request.headers["Authorization"] == "Bearer new"


def test_a_second_401_is_not_retried_again(okta_config, router, transport):
    token_route = router.post(TOKEN).mock(return_value=token_response())
    route = router.get(f"{API}/users/00u1").mock(
        return_value=okta_error(401, "E0000011", "Invalid token provided")
    )
    client = OktaClient(okta_config(), transport=transport)
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    assert route.call_count == 2
    assert token_route.call_count == 2
    assert info.value.status == 401 and not info.value.retryable


def test_ssws_token_is_sent_and_a_401_is_not_retried(okta_config, router, transport):
    route = router.get(f"{API}/users/00u1").mock(return_value=httpx.Response(401, json={}))
    client = OktaClient(okta_config(mode="ssws"), transport=transport)
    with pytest.raises(ConnectorError):
        client.get_user("00u1")
    assert route.call_count == 1
    assert route.calls[0].request.headers["Authorization"] == f"SSWS {CANARY}"


def test_token_endpoint_errors_are_explained(okta_config, router, transport):
    router.post(TOKEN).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": "invalid_dpop_proof",
                "error_description": "The DPoP proof JWT header is missing.",
            },
        )
    )
    client = OktaClient(okta_config(), transport=transport)
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    assert "DPoP" in info.value.message and info.value.code == "invalid_dpop_proof"
    assert not info.value.retryable


def test_rate_limit_uses_okta_reset_epoch(okta_config, router, transport):
    reset = int(time.time()) + 42
    router.get(f"{API}/users/00u1").mock(
        return_value=okta_error(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
            **{"X-Rate-Limit-Reset": str(reset), "X-Rate-Limit-Remaining": "0"},
        )
    )
    client = OktaClient(okta_config(mode="ssws"), transport=transport)
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    error = info.value
    assert error.retryable and error.status == 429 and error.code == "E0000047"
    assert 40 <= error.retry_after <= 43
    assert error.message == "Okta: rate limit exceeded (E0000047)"


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after(httpx.Headers({"Retry-After": "7"})) == 7.0
    now = time.time()
    when = datetime.fromtimestamp(now, UTC) + timedelta(seconds=120)
    value = parse_retry_after(
        httpx.Headers({"Retry-After": format_datetime(when, usegmt=True)}), now=now
    )
    assert 118 <= value <= 120
    assert parse_retry_after(httpx.Headers({"Retry-After": "garbage"})) is None
    assert parse_retry_after(httpx.Headers({})) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(okta_config, router, transport, status):
    router.get(f"{API}/users/00u1").mock(
        return_value=httpx.Response(status, text="<html>oops</html>", headers={"Retry-After": "3"})
    )
    client = OktaClient(okta_config(mode="ssws"), transport=transport)
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    assert info.value.retryable and info.value.retry_after == 3.0
    assert info.value.message == f"Okta: the service is unavailable (HTTP {status})"
    assert "oops" not in info.value.message


def _raising(exc_type):
    def handler(request):
        raise exc_type("boom", request=request)

    return handler


@pytest.mark.parametrize(
    ("exc_type", "method", "unknown"),
    [
        (httpx.ReadTimeout, "POST", True),
        (httpx.ReadTimeout, "GET", False),
        (httpx.WriteTimeout, "DELETE", True),
        (httpx.RemoteProtocolError, "POST", True),
        (httpx.ReadError, "PUT", True),
        (httpx.ConnectTimeout, "POST", False),
        (httpx.ConnectError, "POST", False),
        (httpx.PoolTimeout, "DELETE", False),
    ],
)
def test_transport_failures_are_retryable_and_flag_unknown_outcomes(
    okta_config, exc_type, method, unknown
):
    client = OktaClient(okta_config(mode="ssws"), transport=httpx.MockTransport(_raising(exc_type)))
    with capture_calls() as calls, pytest.raises(ConnectorError) as info:
        client.request(method, "/users/00u1/lifecycle/suspend")
    assert info.value.retryable
    assert info.value.outcome_unknown is unknown
    assert info.value.message.startswith("Okta: ")
    assert calls[-1].status is None and calls[-1].error_code in ("timeout", "connection_error")


def test_call_records_hold_method_and_path_only(okta_config, router, transport, caplog):
    router.post(TOKEN).mock(return_value=token_response(CANARY))
    router.get(f"{API}/users").mock(return_value=httpx.Response(200, json=[okta_user()]))
    client = OktaClient(okta_config(), transport=transport)
    caplog.set_level(logging.DEBUG)
    with capture_calls() as calls:
        client.search_users(query="ann", limit=5)
    assert [(c.method, c.path, c.status) for c in calls] == [
        ("POST", "/oauth2/v1/token", 200),
        ("GET", "/api/v1/users", 200),
    ]
    assert all(c.duration_ms >= 0 for c in calls)
    assert CANARY not in repr(calls) and "ann" not in repr(calls)
    assert CANARY not in caplog.text


def test_okta_link_pagination_follows_next_until_absent(okta_config, router, transport):
    router.get(f"{API}/users/00u1/groups", params={"after": "g2"}).mock(
        return_value=httpx.Response(200, json=[{"id": "g3", "type": "OKTA_GROUP"}])
    )
    router.get(f"{API}/users/00u1/groups").mock(
        return_value=httpx.Response(
            200,
            json=[{"id": "g1"}, {"id": "g2"}],
            headers={"Link": f'<{API}/users/00u1/groups?after=g2&limit=2>; rel="next"'},
        )
    )
    client = OktaClient(okta_config(mode="ssws"), transport=transport)
    assert [g["id"] for g in client.user_groups("00u1")] == ["g1", "g2", "g3"]


def test_a_next_link_to_another_host_is_not_followed(okta_config, router, transport):
    router.get(f"{API}/users/00u1/groups").mock(
        return_value=httpx.Response(
            200, json=[{"id": "g1"}], headers={"Link": '<https://evil.test/x>; rel="next"'}
        )
    )
    client = OktaClient(okta_config(mode="ssws"), transport=transport)
    with pytest.raises(ConnectorError, match="another host"):
        client.user_groups("00u1")


def test_url_policy_is_checked_again_before_each_call(okta_config, transport):
    from dataclasses import replace

    config = replace(okta_config(mode="ssws"), api_base_url="https://internal.okta.com/api/v1")
    with pytest.raises(ConnectorError) as info:
        OktaClient(config, transport=transport).get_user("00u1")
    assert info.value.code == "url_refused" and not info.value.retryable


def test_redirects_are_not_followed(okta_config, router, transport):
    route = router.get(f"{API}/users/00u1").mock(
        return_value=httpx.Response(302, headers={"Location": "http://169.254.169.254/"})
    )
    client = OktaClient(okta_config(mode="ssws"), transport=transport)
    with pytest.raises(ConnectorError, match="redirect") as info:
        client.request("GET", "/users/00u1")
    assert info.value.status == 302 and route.call_count == 1


def test_reprs_hold_no_secret(okta_config):
    config = okta_config()
    client = OktaClient(config)
    assert CANARY not in repr(config) and "PRIVATE KEY" not in repr(config)
    assert CANARY not in repr(client)
    assert "tokens" in repr(TOKEN_CACHE)
