"""Issue 13's provider steps and read-backs, against payloads shaped like the four APIs
(okta.yaml appLinks/devices, google-directory.json verificationCodes/mobiledevices,
microsoft-graph.yaml registeredDevices; CONTRACTS.md §1-4)."""

from __future__ import annotations

import httpx
import pytest

from connections.providers.google import lockout as google
from connections.providers.msgraph import lockout as graph
from connections.providers.okta import lockout as okta
from connections.providers.zoom import lockout as zoom
from connections.types import ConnectorError, Outcome

from .conftest import json_of, okta_error, okta_user

OKTA = "https://acme.okta.com/api/v1"
GDIR = "https://admin.googleapis.com/admin/directory/v1"
GRAPH = "https://graph.microsoft.com/v1.0"
DEVICE = "guo1a2b3c4d5e6f7g8h9"
GUID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def _links(*app_ids: str) -> list[dict]:
    return [
        {"appInstanceId": a, "appAssignmentId": f"0ua{a[3:]}", "appName": "x", "label": a}
        for a in app_ids
    ]


def _okta_device(device_id: str, status: str) -> dict:
    return {
        "created": "2026-01-01T00:00:00.000Z",
        "device": {"id": device_id, "status": status, "profile": {"displayName": "Mac"}},
    }


# --- Okta -------------------------------------------------------------------------------------


def test_okta_unassigns_each_app_and_records_which(okta_client, router):
    router.get(f"{OKTA}/users/00u1/appLinks").mock(
        return_value=httpx.Response(200, json=_links("0oaA", "0oaB", "0oaA"))
    )
    gone = router.delete(f"{OKTA}/apps/0oaA/users/00u1").mock(return_value=httpx.Response(204))
    router.delete(f"{OKTA}/apps/0oaB/users/00u1").mock(
        return_value=okta_error(404, "E0000007", "Not found")
    )
    result = okta.unassign_apps(okta_client, "00u1")
    assert gone.call_count == 1  # one link per app, even when listed twice
    assert gone.calls[0].request.url.params["sendEmail"] == "false"
    assert result.outcome == Outcome.DONE
    # 0oaB was already gone.
    assert result.data == {"removed_app_ids": ["0oaA"], "group_assigned_app_ids": []}


def test_okta_keeps_an_app_a_group_grants_and_says_so(okta_client, router):
    router.get(f"{OKTA}/users/00u1/appLinks").mock(
        return_value=httpx.Response(200, json=_links("0oaA", "0oaG"))
    )
    router.delete(f"{OKTA}/apps/0oaA/users/00u1").mock(return_value=httpx.Response(204))
    router.delete(f"{OKTA}/apps/0oaG/users/00u1").mock(
        return_value=okta_error(
            403,
            "E0000046",
            "Deactivate application for user forbidden.",
            [
                "The application cannot be unassigned from the user while their group memberships "
                "grant them access"
            ],
        )
    )
    result = okta.unassign_apps(okta_client, "00u1")
    assert result.data == {"removed_app_ids": ["0oaA"], "group_assigned_app_ids": ["0oaG"]}
    assert result.detail == "Unassigned from 1 app. 1 app kept: assigned through a group."


def test_okta_permission_refusal_on_unassign_is_not_taken_for_a_group(okta_client, router):
    router.get(f"{OKTA}/users/00u1/appLinks").mock(
        return_value=httpx.Response(200, json=_links("0oaA"))
    )
    router.delete(f"{OKTA}/apps/0oaA/users/00u1").mock(
        return_value=okta_error(403, "E0000006", "You do not have permission")
    )
    with pytest.raises(ConnectorError) as info:
        okta.unassign_apps(okta_client, "00u1")
    assert info.value.code == "E0000006"


def test_okta_unassign_with_no_apps_is_already_done(okta_client, router):
    router.get(f"{OKTA}/users/00u1/appLinks").mock(return_value=httpx.Response(200, json=[]))
    result = okta.unassign_apps(okta_client, "00u1")
    assert result.outcome == Outcome.ALREADY_DONE and result.data == {"removed_app_ids": []}


def test_okta_devices_are_suspended_then_deactivated(okta_client, router):
    router.get(f"{OKTA}/users/00u1/devices").mock(
        return_value=httpx.Response(
            200,
            json=[
                _okta_device("guoActive1", "ACTIVE"),
                _okta_device("guoSusp1", "SUSPENDED"),
                _okta_device("guoGone1", "DEACTIVATED"),
            ],
        )
    )
    lifecycle = router.post(url__regex=r".*/devices/\w+/lifecycle/\w+$").mock(
        return_value=httpx.Response(204)
    )
    result = okta.lock_devices(okta_client, "00u1")
    paths = [c.request.url.path.removeprefix("/api/v1") for c in lifecycle.calls]
    # The devices go side by side; each one's own actions in turn.
    assert sorted(paths) == [
        "/devices/guoActive1/lifecycle/deactivate",
        "/devices/guoActive1/lifecycle/suspend",
        "/devices/guoSusp1/lifecycle/deactivate",
    ]
    active = [p for p in paths if "guoActive1" in p]
    assert active == [
        "/devices/guoActive1/lifecycle/suspend",
        "/devices/guoActive1/lifecycle/deactivate",
    ]
    assert result.data == {
        "device_ids": ["guoActive1", "guoSusp1"],
        "action": "deactivate",
        "previous_statuses": {"guoActive1": "ACTIVE", "guoSusp1": "SUSPENDED"},
    }


def test_okta_devices_only_suspended_when_deactivate_is_off(okta_client, router):
    router.get(f"{OKTA}/users/00u1/devices").mock(
        return_value=httpx.Response(200, json=[_okta_device(DEVICE, "ACTIVE")])
    )
    suspend = router.post(f"{OKTA}/devices/{DEVICE}/lifecycle/suspend").mock(
        return_value=httpx.Response(204)
    )
    result = okta.lock_devices(okta_client, "00u1", deactivate=False)
    assert suspend.called and result.data["action"] == "suspend"
    assert result.detail == "1 device suspended."


def test_okta_devices_on_classic_engine_lock_nothing_and_say_why(okta_client, router):
    router.get(f"{OKTA}/users/00u1/devices").mock(
        return_value=okta_error(400, "E0000001", "Api validation failed", ["Not supported"])
    )
    result = okta.lock_devices(okta_client, "00u1")
    assert result.outcome == Outcome.ALREADY_DONE and result.data["device_ids"] == []
    assert "Identity Engine" in result.detail


def test_okta_deactivate_sends_the_email_choice(okta_client, router):
    route = router.post(f"{OKTA}/users/00u1/lifecycle/deactivate").mock(
        return_value=httpx.Response(200, json={})
    )
    okta_client.deactivate_user("00u1", send_email=True)
    assert route.calls[0].request.url.params["sendEmail"] == "true"


def test_okta_read_back_names_what_is_left(okta_client, router):
    router.get(f"{OKTA}/users/00u1").mock(
        return_value=httpx.Response(200, json=okta_user(status="SUSPENDED"))
    )
    router.get(f"{OKTA}/users/00u1/appLinks").mock(
        return_value=httpx.Response(200, json=_links("0oaA", "0oaB"))
    )
    router.get(f"{OKTA}/users/00u1/factors").mock(return_value=httpx.Response(200, json=[]))
    result = okta.verify(
        okta_client, "00u1", {"suspend": True, "unassign_apps": True, "reset_factors": True}
    )
    assert result.data["verdict"] == "not_verified"
    assert result.detail == "Okta still lists 2 app assignments"
    assert result.data["observed"] == {"status": "SUSPENDED", "app_links": 2, "factors": 0}


def test_okta_read_back_of_devices_on_classic_engine_is_unavailable_in_words(okta_client, router):
    router.get(f"{OKTA}/users/00u1").mock(
        return_value=httpx.Response(200, json=okta_user(status="SUSPENDED"))
    )
    router.get(f"{OKTA}/users/00u1/devices").mock(
        return_value=okta_error(400, "E0000001", "Api validation failed", ["Not supported"])
    )
    result = okta.verify(okta_client, "00u1", {"suspend": True, "lock_devices": True})
    assert result.data["verdict"] == "unavailable"
    assert result.detail.startswith("devices could not be read")


def test_okta_read_back_of_a_locked_account_is_verified(okta_client, router):
    router.get(f"{OKTA}/users/00u1").mock(
        return_value=httpx.Response(200, json=okta_user(status="SUSPENDED"))
    )
    router.get(f"{OKTA}/users/00u1/grants").mock(return_value=httpx.Response(200, json=[]))
    result = okta.verify(okta_client, "00u1", {"suspend": True, "revoke_grants": True})
    assert result.data["verdict"] == "verified"
    assert result.detail == "Okta shows the account SUSPENDED"


def test_okta_read_back_of_a_missing_user_is_no_account(okta_client, router):
    router.get(f"{OKTA}/users/00u1").mock(return_value=okta_error(404, "E0000007", "Not found"))
    assert okta.verify(okta_client, "00u1", {"suspend": True}).outcome == Outcome.NO_ACCOUNT


# --- Google -----------------------------------------------------------------------------------


def _mobile(rid: str, status: str) -> dict:
    return {"kind": "admin#directory#mobiledevice", "resourceId": rid, "status": status}


def test_google_backup_codes_are_invalidated_in_one_call(google_client, router):
    route = router.post(f"{GDIR}/users/ann@acme.com/verificationCodes/invalidate").mock(
        return_value=httpx.Response(204)
    )
    result = google.invalidate_backup_codes(google_client, "ann@acme.com")
    assert route.called and result.outcome == Outcome.DONE


@pytest.mark.parametrize(("block_only", "action"), [(False, "admin_account_wipe"), (True, "block")])
def test_google_mobile_devices_are_wiped_or_blocked(google_client, router, block_only, action):
    router.get(f"{GDIR}/users/ann@acme.com").mock(
        return_value=httpx.Response(200, json={"primaryEmail": "ann@acme.com"})
    )
    listing = router.get(f"{GDIR}/customer/my_customer/devices/mobile").mock(
        return_value=httpx.Response(
            200,
            json={"mobiledevices": [_mobile("AFiQxQ1", "APPROVED"), _mobile("AFiQxQ2", "WIPING")]},
        )
    )
    acted = router.post(url__regex=r".*/devices/mobile/AFiQxQ\d/action$").mock(
        return_value=httpx.Response(204)
    )
    result = google.act_on_devices(google_client, "ann@acme.com", block_only=block_only)
    assert listing.calls[0].request.url.params["query"] == "email:ann@acme.com"
    assert [json_of(c.request) for c in acted.calls] == [{"action": action}]
    assert result.data["device_ids"] == ["AFiQxQ1"] and result.data["action"] == action


def test_google_read_back_counts_backup_codes_and_devices(google_client, router):
    router.get(f"{GDIR}/users/ann@acme.com").mock(
        return_value=httpx.Response(200, json={"primaryEmail": "ann@acme.com", "suspended": True})
    )
    router.get(f"{GDIR}/users/ann@acme.com/verificationCodes").mock(
        return_value=httpx.Response(200, json={"items": [{"verificationCode": "1"}] * 8})
    )
    router.get(f"{GDIR}/customer/my_customer/devices/mobile").mock(
        return_value=httpx.Response(200, json={"mobiledevices": [_mobile("A1", "ACCOUNT_WIPING")]})
    )
    result = google.verify(
        google_client,
        "ann@acme.com",
        {"suspend": True, "invalidate_backup_codes": True, "mobile_devices": True},
    )
    assert result.data["verdict"] == "not_verified"
    assert result.detail == "Google still lists 8 backup codes"


# --- Microsoft 365 ----------------------------------------------------------------------------


def _graph_user(enabled: bool, valid_from: str) -> dict:
    return {"id": GUID, "accountEnabled": enabled, "signInSessionsValidFromDateTime": valid_from}


def test_graph_devices_are_disabled_and_a_403_names_the_permission(graph_client, router):
    router.get(f"{GRAPH}/users/ann@acme.com/registeredDevices").mock(
        return_value=httpx.Response(200, json={"value": [{"id": GUID, "accountEnabled": True}]})
    )
    router.patch(f"{GRAPH}/devices/{GUID}").mock(
        return_value=httpx.Response(
            403,
            json={"error": {"code": "Authorization_RequestDenied", "message": "Insufficient"}},
        )
    )
    with pytest.raises(ConnectorError) as info:
        graph.disable_devices(graph_client, "ann@acme.com")
    assert "Device.ReadWrite.All" in info.value.message and not info.value.retryable


def test_graph_disables_enabled_devices_only(graph_client, router):
    other = GUID.replace("0b1c", "ffff")
    router.get(f"{GRAPH}/users/ann@acme.com/registeredDevices").mock(
        return_value=httpx.Response(
            200,
            json={
                "value": [
                    {"id": GUID, "accountEnabled": True},
                    {"id": other, "accountEnabled": False},
                ]
            },
        )
    )
    patched = router.patch(f"{GRAPH}/devices/{GUID}").mock(return_value=httpx.Response(204))
    result = graph.disable_devices(graph_client, "ann@acme.com")
    assert json_of(patched.calls[0].request) == {"accountEnabled": False}
    assert result.data == {"device_ids": [GUID], "action": "disable", "previous_status": "enabled"}


@pytest.mark.parametrize(
    ("valid_from", "verdict"),
    [("2026-12-01T10:00:05Z", "verified"), ("2026-12-01T09:59:00Z", "not_verified")],
)
def test_graph_read_back_checks_sessions_against_the_revoke(
    graph_client, router, valid_from, verdict
):
    router.get(f"{GRAPH}/users/ann@acme.com").mock(
        return_value=httpx.Response(200, json=_graph_user(False, valid_from))
    )
    options = {"disable": True, "revoke_sessions": True, "since": "2026-12-01T10:00:00.250+00:00"}
    result = graph.verify(graph_client, "ann@acme.com", options)
    assert result.data["verdict"] == verdict
    assert result.data["observed"]["signInSessionsValidFromDateTime"] == valid_from


# --- Zoom -------------------------------------------------------------------------------------


def test_zoom_read_back_of_an_active_user_is_not_verified(zoom_client, router):
    router.get("https://api.zoom.us/v2/users/ann@acme.com").mock(
        return_value=httpx.Response(200, json={"id": "z1", "status": "active"})
    )
    result = zoom.verify(zoom_client, "ann@acme.com", {"deactivate": True, "revoke_token": True})
    assert result.data["verdict"] == "not_verified"
    assert result.detail == "Zoom shows the user active"
