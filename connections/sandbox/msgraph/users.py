"""Microsoft Graph /v1.0: users ($select), accountEnabled, revokeSignInSessions, devices."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from connections.sandbox import data
from connections.sandbox.data import iso_seconds
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp, graph_error

router = Router()
DEFAULT_FIELDS = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
ALL_FIELDS = DEFAULT_FIELDS + (
    "accountEnabled",
    "onPremisesSyncEnabled",
    "onPremisesImmutableId",
    "signInSessionsValidFromDateTime",
    "createdDateTime",
    "employeeId",
    "userType",
    "department",
)
HYBRID_MESSAGE = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
_ALT_DEVICE = re.compile(r"^\(deviceId='([^']+)'\)$")


def find_user(app, key: str) -> int | None:
    idx = app.org.find(key) if "@" in key else app.org.ids.graph_user.parse(key)
    if idx is None or idx >= app.org.n or app.org.has(idx, data.F_NOGRAPH):
        return None
    return idx


def _user(app, req: Request):
    key = req.params["userId"]
    idx = find_user(app, key)
    message = f"Resource '{key}' does not exist or one of its queried reference-property objects are not present."
    return idx, (graph_error(404, "Request_ResourceNotFound", message) if idx is None else None)


def _all_fields(app, idx: int) -> dict:
    org, person = app.org, app.state.person(idx)
    hybrid = org.has(idx, data.F_HYBRID)
    return {
        "businessPhones": [],
        "displayName": f"{org.first[idx]} {org.last[idx]}",
        "givenName": org.first[idx],
        "jobTitle": None,
        "mail": org.email[idx],
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": org.last[idx],
        "userPrincipalName": org.email[idx],
        "id": org.ids.graph_user.make(idx),
        "accountEnabled": person.graph_enabled,
        "onPremisesSyncEnabled": True if hybrid else None,
        "onPremisesImmutableId": org.ids.graph_user.make(idx)[:22] if hybrid else None,
        "signInSessionsValidFromDateTime": iso_seconds(person.graph_sessions_from),
        "createdDateTime": iso_seconds(org.created(idx)),
        "employeeId": str(100000 + idx),
        "userType": "Member",
        "department": data.DEPARTMENTS[org.dept[idx]],
    }


@router.add("GET", "/users/{userId}", (), "users")
def get_user(app, req: Request) -> Resp:
    """Default projection unless $select names the properties (accountEnabled only when selected)."""
    idx, missing = _user(app, req)
    if missing:
        return missing
    select = [s.strip() for s in (req.arg("$select") or "").split(",") if s.strip()]
    unknown = [s for s in select if s not in ALL_FIELDS]
    if unknown:
        return graph_error(
            400,
            "Request_BadRequest",
            f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.user'.",
        )
    fields = _all_fields(app, idx)
    chosen = select or DEFAULT_FIELDS
    context = (
        f"{req.base_url}/graph/v1.0/$metadata#users"
        + (f"({','.join(select)})" if select else "")
        + "/$entity"
    )
    return Resp(200, {"@odata.context": context, **{k: fields[k] for k in chosen}})


@router.add("PATCH", "/users/{userId}", (), "users")
def update_user(app, req: Request) -> Resp:
    """PATCH accountEnabled; 204, or 400 for a user mastered on-premises."""
    body = req.json()
    idx, missing = _user(app, req)
    if missing:
        return missing
    if "accountEnabled" not in body:
        return Resp(204)
    if not isinstance(body["accountEnabled"], bool):
        return graph_error(
            400,
            "Request_BadRequest",
            "Invalid value specified for property 'accountEnabled' of resource 'User'.",
        )
    if app.org.has(idx, data.F_HYBRID):
        return graph_error(400, "Request_BadRequest", HYBRID_MESSAGE)
    person = app.state.person(idx)
    applied = person.graph_enabled != body["accountEnabled"]
    person.graph_enabled = body["accountEnabled"]
    return Resp(204, applied=applied)


@router.add("POST", "/users/{userId}/revokeSignInSessions", (), "users")
def revoke_sessions(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    person = app.state.person(idx)
    now = datetime.now(UTC).replace(microsecond=0)
    person.graph_sessions_from = max(now, person.graph_sessions_from + timedelta(seconds=1))
    return Resp(
        200,
        {"@odata.context": f"{req.base_url}/graph/v1.0/$metadata#Edm.Boolean", "value": True},
        applied=True,
    )


def _device_json(app, idx: int, k: int, enabled: bool) -> dict:
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
def list_devices(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    devices = sorted(app.state.person(idx).graph_devices.items())
    value = [_device_json(app, idx, k, e) for k, e in devices]
    return Resp(
        200,
        {"@odata.context": f"{req.base_url}/graph/v1.0/$metadata#directoryObjects", "value": value},
    )


def _device(app, key: str):
    alt = _ALT_DEVICE.match(key)
    codec = app.org.ids.graph_device_key if alt else app.org.ids.graph_device
    found = codec.parse(alt.group(1) if alt else key, sub=True)
    if found and found[0] < app.org.n and found[1] in app.state.person(found[0]).graph_devices:
        return found
    return None


@router.add("PATCH", "/devices/{deviceKey}", (), "devices")
@router.add("PATCH", "/devices{deviceKey}", (), "devices")
def update_device(app, req: Request) -> Resp:
    """PATCH /devices/{id} or /devices(deviceId='...') with accountEnabled."""
    body = req.json()
    key = req.params["deviceKey"]
    found = _device(app, key)
    if found is None:
        return graph_error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
        )
    if "accountEnabled" in body and not isinstance(body["accountEnabled"], bool):
        return graph_error(
            400,
            "Request_BadRequest",
            "Invalid value specified for property 'accountEnabled' of resource 'Device'.",
        )
    devices = app.state.person(found[0]).graph_devices
    wanted = body.get("accountEnabled", devices[found[1]])
    applied = devices[found[1]] != wanted
    devices[found[1]] = wanted
    return Resp(204, applied=applied)
