"""Okta devices: a user's devices, suspending and deactivating one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox.data import iso
from connections.sandbox.okta.errors import not_found, okta_error
from connections.sandbox.okta.users import READ, user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def _device_json(app: App, idx: int, k: int, status: str, base: str) -> dict:
    did = app.org.ids.okta_device.make(idx, k)
    platform = ("IOS", "MACOS", "ANDROID", "WINDOWS")[(idx + k) % 4]
    when = iso(app.org.created(idx))
    device = {
        "id": did,
        "status": status,
        "created": when,
        "lastUpdated": when,
        "profile": {
            "displayName": f"{app.org.first[idx]}'s {platform.title()} device",
            "platform": platform,
            "registered": True,
            "serialNumber": did[3:15],
        },
        "resourceType": "UDDevice",
        "resourceDisplayName": {"value": f"{platform.title()} device", "sensitive": False},
        "resourceId": did,
        "_links": {"self": {"href": f"{base}/okta/api/v1/devices/{did}"}},
    }
    return {"created": when, "device": device, "deviceUserId": f"dud{did[3:]}"}


@router.add("GET", "/users/{userId}/devices", READ, "user_get")
def user_devices(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    devices = sorted(app.state.person(idx).okta_devices.items())
    return Resp(200, [_device_json(app, idx, k, s, req.base_url) for k, s in devices])


def _device_target(app: App, req: Request) -> tuple[int, int] | Resp:
    """(owner index, device number), or Okta's 404."""
    found = app.org.ids.okta_device.parse(req.params["deviceId"], sub=True)
    if found and found[0] < app.org.n and found[1] in app.state.person(found[0]).okta_devices:
        return found
    return not_found(req.params["deviceId"], "Device")


@router.add("POST", "/devices/{deviceId}/lifecycle/suspend", ("okta.devices.manage",), "devices")
def suspend_device(app: App, req: Request) -> Resp:
    found = _device_target(app, req)
    if isinstance(found, Resp):
        return found
    devices = app.state.person(found[0]).okta_devices
    if devices[found[1]] != "ACTIVE":
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: device",
            ["Only an ACTIVE device can be suspended"],
        )
    devices[found[1]] = "SUSPENDED"
    return Resp(204, applied=True)


@router.add("POST", "/devices/{deviceId}/lifecycle/deactivate", ("okta.devices.manage",), "devices")
def deactivate_device(app: App, req: Request) -> Resp:
    found = _device_target(app, req)
    if isinstance(found, Resp):
        return found
    devices = app.state.person(found[0]).okta_devices
    applied = devices[found[1]] != "DEACTIVATED"
    devices[found[1]] = "DEACTIVATED"
    return Resp(204, applied=applied)
