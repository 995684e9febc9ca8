"""Call records carry Okta's rate-limit headers (calls left, refill time) for the runner's pacing."""

from __future__ import annotations

import httpx
import pytest

from connections.providers.okta.client import OktaClient
from connections.types import ConnectorError, capture_calls

from .conftest import okta_error, okta_user

API = "https://acme.okta.com/api/v1"
RATE = {
    "X-Rate-Limit-Limit": "600",
    "X-Rate-Limit-Remaining": "7",
    "X-Rate-Limit-Reset": "1700000060",
}


@pytest.fixture
def client(okta_config, transport):
    return OktaClient(okta_config(mode="ssws"), transport=transport)


def test_a_call_record_keeps_the_buckets_calls_left_and_refill_time(client, router):
    router.get(f"{API}/users/00u1").mock(
        return_value=httpx.Response(200, json=okta_user(), headers=RATE)
    )
    with capture_calls() as calls:
        client.get_user("00u1")
    assert (calls[0].rate_remaining, calls[0].rate_reset) == (7, 1700000060.0)


def test_a_refused_call_keeps_them_too(client, router):
    refused = okta_error(429, "E0000047", "API call exceeded rate limit due to too many requests.")
    refused.headers.update({**RATE, "X-Rate-Limit-Remaining": "0"})
    router.get(f"{API}/users/00u1").mock(return_value=refused)
    with capture_calls() as calls, pytest.raises(ConnectorError):
        client.get_user("00u1")
    assert (calls[0].status, calls[0].rate_remaining) == (429, 0)


def test_an_answer_without_rate_headers_records_none(client, router):
    router.get(f"{API}/users/00u1").mock(return_value=httpx.Response(200, json=okta_user()))
    with capture_calls() as calls:
        client.get_user("00u1")
    assert (calls[0].rate_remaining, calls[0].rate_reset) == (None, None)
