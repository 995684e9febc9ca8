"""The removals of a list-then-remove operation run side by side (connections/providers/fanout.py)."""

from __future__ import annotations

import threading

import httpx
import pytest

from connections.providers.fanout import fan_out
from connections.providers.okta.client import OktaClient
from connections.types import ConnectorError, Outcome, capture_calls

from .conftest import okta_error

API = "https://acme.okta.com/api/v1"
NOT_FOUND = ("E0000007", "Not found: Resource not found: 00u1 (User)")
RATE = ("E0000047", "API call exceeded rate limit due to too many requests.")
GROUPS = [{"id": f"00g{i}", "type": "OKTA_GROUP", "profile": {"name": f"G{i}"}} for i in range(3)]


@pytest.fixture
def client(okta_config, transport):
    return OktaClient(okta_config(mode="ssws"), transport=transport)


def _groups(router, groups=GROUPS):
    return router.get(f"{API}/users/00u1/groups").mock(
        return_value=httpx.Response(200, json=groups)
    )


def test_removals_are_in_flight_at_the_same_time(client, router):
    # Each DELETE waits until all three have arrived: sent one after another, this would break.
    together = threading.Barrier(3, timeout=10)

    def answer(request):
        together.wait()
        return httpx.Response(204)

    _groups(router)
    router.delete(url__regex=rf"{API}/groups/00g\d/users/00u1").mock(side_effect=answer)
    result = client.remove_from_groups("00u1")
    assert result.outcome == Outcome.DONE
    assert not together.broken


def test_every_call_is_recorded_and_the_removed_ids_are_returned(client, router):
    _groups(router)
    router.delete(url__regex=rf"{API}/groups/00g\d/users/00u1").mock(
        return_value=httpx.Response(204)
    )
    with capture_calls() as calls:
        result = client.remove_from_groups("00u1")
    assert sorted((c.method, c.path, c.status) for c in calls) == [
        ("DELETE", f"/api/v1/groups/00g{i}/users/00u1", 204) for i in range(3)
    ] + [("GET", "/api/v1/users/00u1/groups", 200)]
    assert result.data == {"removed_group_ids": ["00g0", "00g1", "00g2"]}


def test_a_membership_already_gone_is_success(client, router):
    _groups(router)
    router.delete(url__regex=rf"{API}/groups/00g[01]/users/00u1").mock(
        return_value=httpx.Response(204)
    )
    router.delete(f"{API}/groups/00g2/users/00u1").mock(return_value=okta_error(404, *NOT_FOUND))
    assert client.remove_from_groups("00u1").outcome == Outcome.DONE


def test_a_429_on_one_removal_is_raised_retryable_with_its_wait(client, router):
    _groups(router)
    router.delete(url__regex=rf"{API}/groups/00g[02]/users/00u1").mock(
        return_value=httpx.Response(204)
    )
    router.delete(f"{API}/groups/00g1/users/00u1").mock(
        return_value=okta_error(429, *RATE, **{"Retry-After": "7"})
    )
    with pytest.raises(ConnectorError) as info:
        client.remove_from_groups("00u1")
    assert info.value.status == 429 and info.value.retryable
    assert info.value.retry_after == 7


def test_a_bad_group_id_sends_no_removal(client, router):
    _groups(router, GROUPS + [{"id": "../admin", "type": "OKTA_GROUP"}])
    deletes = router.delete(url__regex=r".*/groups/.*")
    with pytest.raises(ConnectorError) as info:
        client.remove_from_groups("00u1")
    assert info.value.code == "bad_id" and not deletes.called


def test_no_item_starts_after_a_failure():
    started: list[int] = []
    both_started = threading.Barrier(2, timeout=10)
    failed = threading.Event()

    def call(item: int) -> int:
        started.append(item)
        if item == 0:
            both_started.wait()
            failed.set()
            raise ConnectorError("Okta: rate limit (E0000047)", status=429, retryable=True)
        if item == 1:
            both_started.wait()
            failed.wait(10)  # the failure is being raised on the other thread
            threading.Event().wait(0.2)  # and recorded before this worker looks for its next item
        return item

    with pytest.raises(ConnectorError):
        fan_out(list(range(10)), call, limit=2)
    assert sorted(started) == [0, 1]


def test_an_unknown_outcome_is_raised_before_an_earlier_plain_failure():
    both = threading.Barrier(2, timeout=10)

    def call(item: int) -> int:
        both.wait()
        if item == 0:
            raise ConnectorError("Okta: rate limit", status=429, retryable=True)
        raise ConnectorError("Okta: the connection dropped.", retryable=True, outcome_unknown=True)

    with pytest.raises(ConnectorError) as info:
        fan_out([0, 1], call, limit=2)
    assert info.value.outcome_unknown


def test_results_keep_the_items_order_and_the_limit_holds():
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def call(item: int) -> int:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        threading.Event().wait(0.01)
        with lock:
            running[0] -= 1
        return item * 10

    assert fan_out(list(range(12)), call, limit=3) == [i * 10 for i in range(12)]
    assert running[1] <= 3


def test_a_limit_of_one_sends_the_removals_one_after_another(client, router, settings):
    settings.PORTAL_FANOUT_LIMIT = 1
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def answer(request):
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        threading.Event().wait(0.01)
        with lock:
            running[0] -= 1
        return httpx.Response(204)

    _groups(router)
    router.delete(url__regex=rf"{API}/groups/00g\d/users/00u1").mock(side_effect=answer)
    assert client.remove_from_groups("00u1").outcome == Outcome.DONE
    assert running[1] == 1


def test_operations_running_at_once_share_the_clients_limit(okta_config, router, settings):
    settings.PORTAL_FANOUT_LIMIT = 2
    client = OktaClient(okta_config(mode="ssws"), transport=httpx.MockTransport(router.handler))
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def answer(request):
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        threading.Event().wait(0.05)
        with lock:
            running[0] -= 1
        return httpx.Response(204)

    for user in ("00u1", "00u2"):
        router.get(f"{API}/users/{user}/groups").mock(return_value=httpx.Response(200, json=GROUPS))
    router.delete(url__regex=rf"{API}/groups/00g\d/users/00u\d").mock(side_effect=answer)
    threads = [
        threading.Thread(target=client.remove_from_groups, args=(user,))
        for user in ("00u1", "00u2")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert running[1] <= 2 and router.calls.call_count == 8
