"""Microsoft Graph devices: a user's registered and owned devices, PATCH accountEnabled on one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from connections.sandbox.data import iso_seconds
from connections.sandbox.msgraph.errors import bad_request, not_found
from connections.sandbox.msgraph.users import user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
_ALT_DEVICE = re.compile(r"^\(deviceId='([^']+)'\)$")


def _device_json(app: App, idx: int, k: int, enabled: bool) -> dict:
    windows = (idx + k) % 2 == 0
    return {
        "@odata.type": "#microsoft.graph.device",
        "id": app.org.ids.graph_device.make(idx, k),
        "deviceId": app.org.ids.graph_device_key.make(idx, k),
        "accountEnabled": enabled,
        "displayName": f"{app.org.first[idx].upper()}-{'LAPTOP' if windows else 'MAC'}-{k}",
        "operatingSystem": "Windows" if windows else "MacMDM",
        "operatingSystemVersion": "10.0.22631.3447" if windows else "14.4.1",
        "isCompliant": True,
        "isManaged": True,
        "trustType": "AzureAd" if windows else "Workplace",
        "approximateLastSignInDateTime": iso_seconds(app.state.person(idx).last_updated),
        "registrationDateTime": iso_seconds(app.org.created(idx)),
        "onPremisesSyncEnabled": None,
    }


@router.add("GET", "/users/{userId}/registeredDevices", (), "devices")
@router.add("GET", "/users/{userId}/ownedDevices", (), "devices")
def list_devices(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    devices = sorted(app.state.person(idx).graph_devices.items())
    value = [_device_json(app, idx, k, e) for k, e in devices]
    return Resp(
        200,
        {"@odata.context": f"{req.base_url}/graph/v1.0/$metadata#directoryObjects", "value": value},
    )


def _device(app: App, key: str) -> tuple[int, int] | None:
    alt = _ALT_DEVICE.match(key)
    codec = app.org.ids.graph_device_key if alt else app.org.ids.graph_device
    found = codec.parse(alt.group(1) if alt else key, sub=True)
    if found and found[0] < app.org.n and found[1] in app.state.person(found[0]).graph_devices:
        return found
    return None


@router.add("PATCH", "/devices/{deviceKey}", (), "devices")
@router.add("PATCH", "/devices{deviceKey}", (), "devices")
def update_device(app: App, req: Request) -> Resp:
    """PATCH /devices/{id} or /devices(deviceId='...') with accountEnabled."""
    body = req.json()
    key = req.params["deviceKey"]
    found = _device(app, key)
    if found is None:
        return not_found(key)
    if "accountEnabled" in body and not isinstance(body["accountEnabled"], bool):
        return bad_request(
            "Invalid value specified for property 'accountEnabled' of resource 'Device'.",
        )
    devices = app.state.person(found[0]).graph_devices
    wanted = body.get("accountEnabled", devices[found[1]])
    applied = devices[found[1]] != wanted
    devices[found[1]] = wanted
    return Resp(204, applied=applied)
