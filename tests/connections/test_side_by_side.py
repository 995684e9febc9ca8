"""Issue 10 on issue 13's steps: what does not depend on another call goes at once. A read-back's
reads, and the actions on each app assignment or device, are in flight together (each answer
below waits until all its peers have arrived: sent one after another, the barrier would break)."""

from __future__ import annotations

import threading

import httpx

from connections.providers.google import lockout as google
from connections.providers.msgraph import lockout as graph
from connections.providers.okta import lockout as okta
from connections.types import Outcome

from .conftest import Together, okta_user
from .test_client_lockout import GDIR, GRAPH, GUID, OKTA, _links, _mobile, _okta_device


def test_okta_read_back_reads_side_by_side(okta_client, router):
    together = Together(4)
    user = httpx.Response(200, json=okta_user(status="SUSPENDED"))
    router.get(f"{OKTA}/users/00u1").mock(side_effect=together.answer(user))
    for part in ("appLinks", "factors", "grants"):
        router.get(f"{OKTA}/users/00u1/{part}").mock(
            side_effect=together.answer(httpx.Response(200, json=[]))
        )
    options = {"suspend": True, "unassign_apps": True, "reset_factors": True, "revoke_grants": True}
    result = okta.verify(okta_client, "00u1", options)
    assert together.met and result.data["verdict"] == "verified"
    assert result.data["observed"] == {
        "status": "SUSPENDED",
        "app_links": 0,
        "factors": 0,
        "grants": 0,
    }


def test_okta_apps_are_unassigned_side_by_side(okta_client, router):
    together = Together(3)
    router.get(f"{OKTA}/users/00u1/appLinks").mock(
        return_value=httpx.Response(200, json=_links("0oaA", "0oaB", "0oaC"))
    )
    router.delete(url__regex=rf"{OKTA}/apps/0oa\w/users/00u1").mock(
        side_effect=together.answer(httpx.Response(204))
    )
    result = okta.unassign_apps(okta_client, "00u1")
    assert together.met and result.outcome == Outcome.DONE
    assert result.data["removed_app_ids"] == ["0oaA", "0oaB", "0oaC"]


def test_okta_devices_are_locked_side_by_side(okta_client, router):
    together = Together(2)
    router.get(f"{OKTA}/users/00u1/devices").mock(
        return_value=httpx.Response(
            200, json=[_okta_device("guoOne", "ACTIVE"), _okta_device("guoTwo", "ACTIVE")]
        )
    )
    router.post(url__regex=r".*/devices/\w+/lifecycle/suspend$").mock(
        side_effect=together.answer(httpx.Response(204))
    )
    router.post(url__regex=r".*/devices/\w+/lifecycle/deactivate$").mock(
        return_value=httpx.Response(204)
    )
    result = okta.lock_devices(okta_client, "00u1")
    assert together.met and result.data["device_ids"] == ["guoOne", "guoTwo"]


def test_google_read_back_reads_side_by_side(google_client, router):
    together = Together(4)
    user = httpx.Response(200, json={"primaryEmail": "ann@acme.com", "suspended": True})
    router.get(f"{GDIR}/users/ann@acme.com").mock(side_effect=together.answer(user))
    for part in ("tokens", "asps", "verificationCodes"):
        router.get(f"{GDIR}/users/ann@acme.com/{part}").mock(
            side_effect=together.answer(httpx.Response(200, json={"items": []}))
        )
    options = {
        "suspend": True,
        "revoke_oauth_tokens": True,
        "delete_app_passwords": True,
        "invalidate_backup_codes": True,
    }
    result = google.verify(google_client, "ann@acme.com", options)
    assert together.met and result.data["verdict"] == "verified"


def test_google_devices_listed_by_another_address_are_listed_again_by_the_primary(
    google_client, router
):
    """The request may carry an alias: the devices are Google's for the primary address."""
    router.get(f"{GDIR}/users/alias@acme.com").mock(
        return_value=httpx.Response(200, json={"primaryEmail": "ann@acme.com"})
    )
    listing = router.get(f"{GDIR}/customer/my_customer/devices/mobile").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json={"mobiledevices": [_mobile("A1", "APPROVED")]}
            if request.url.params["query"] == "email:ann@acme.com"
            else {},
        )
    )
    router.post(url__regex=r".*/devices/mobile/A1/action$").mock(return_value=httpx.Response(204))
    result = google.act_on_devices(google_client, "alias@acme.com")
    queries = sorted(c.request.url.params["query"] for c in listing.calls)
    assert queries == ["email:alias@acme.com", "email:ann@acme.com"]
    assert result.data["device_ids"] == ["A1"]


def test_google_devices_are_acted_on_side_by_side(google_client, router):
    together = Together(2)
    router.get(f"{GDIR}/users/ann@acme.com").mock(
        return_value=httpx.Response(200, json={"primaryEmail": "ann@acme.com"})
    )
    router.get(f"{GDIR}/customer/my_customer/devices/mobile").mock(
        return_value=httpx.Response(
            200, json={"mobiledevices": [_mobile("A1", "APPROVED"), _mobile("A2", "APPROVED")]}
        )
    )
    router.post(url__regex=r".*/devices/mobile/A\d/action$").mock(
        side_effect=together.answer(httpx.Response(204))
    )
    result = google.act_on_devices(google_client, "ann@acme.com")
    assert together.met and result.data["device_ids"] == ["A1", "A2"]


def test_graph_devices_are_disabled_side_by_side(graph_client, router):
    other = GUID.replace("0b1c", "ffff")
    together = Together(2)
    router.get(f"{GRAPH}/users/ann@acme.com/registeredDevices").mock(
        return_value=httpx.Response(
            200,
            json={
                "value": [
                    {"id": GUID, "accountEnabled": True},
                    {"id": other, "accountEnabled": True},
                ]
            },
        )
    )
    router.patch(url__regex=rf"{GRAPH}/devices/.*").mock(
        side_effect=together.answer(httpx.Response(204))
    )
    result = graph.disable_devices(graph_client, "ann@acme.com")
    assert together.met and result.data["device_ids"] == [GUID, other]


def test_calls_side_by_side_on_a_cold_client_share_one_token_request(google_client, router):
    """Two threads find no token at once: one asks the token endpoint, the other waits and reuses
    its answer (a burst of token requests meets DPoP nonce challenges that overtake each other).
    The token endpoint waits up to a second for a second request: sent twice, it would get it."""
    calls: list[int] = []
    second = threading.Condition()

    def token(request: httpx.Request) -> httpx.Response:
        with second:
            calls.append(1)
            n = len(calls)
            second.notify_all()
            if n == 1:
                second.wait_for(lambda: len(calls) >= 2, timeout=1)
        return httpx.Response(200, json={"access_token": f"t{n}", "expires_in": 3600})

    router.post("https://oauth2.googleapis.com/token").mock(side_effect=token)
    headers: list[str] = []

    def ask() -> None:
        headers.append(google_client._authorization())

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and headers == ["Bearer t1", "Bearer t1"]
