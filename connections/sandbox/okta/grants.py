"""Okta /api/v1: groups, app links, factors, grants, OAuth clients and devices."""

from __future__ import annotations

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.okta import find_user, router, user_not_found
from connections.sandbox.web import Request, Resp, okta_error

USERS_READ, USERS_MANAGE = ("okta.users.read",), ("okta.users.manage",)
FACTOR_META = {
    "push": ("OKTA", "OKTA"),
    "token:software:totp": ("GOOGLE", "GOOGLE"),
    "sms": ("OKTA", "OKTA"),
    "webauthn": ("FIDO", "FIDO"),
}


def _user(app, req: Request, key: str = "userId"):
    idx = find_user(app, req.params[key])
    return idx, (user_not_found(req.params[key]) if idx is None else None)


def group_json(app, g: int, base: str) -> dict:
    name, kind = data.GROUPS[g]
    gid = app.org.ids.okta_group.make(g)
    profile = {"name": name, "description": f"{name} ({kind})"}
    when = iso(data.EPOCH)
    body = {
        "id": gid,
        "created": when,
        "lastUpdated": when,
        "lastMembershipUpdated": when,
        "objectClass": ["okta:user_group"]
        if kind != "APP_GROUP"
        else ["okta:windows_security_principal"],
        "type": kind,
        "profile": profile,
        "_links": {
            "self": {"href": f"{base}/okta/api/v1/groups/{gid}"},
            "users": {"href": f"{base}/okta/api/v1/groups/{gid}/users"},
        },
    }
    return body


def find_group(app, key: str) -> int | None:
    g = app.org.ids.okta_group.parse(key)
    if g is not None and g < len(data.GROUPS):
        return g
    names = {name.lower(): i for i, (name, _) in enumerate(data.GROUPS)}
    return names.get(key.lower())


@router.add("GET", "/users/{id}/groups", USERS_READ, "user_get")
def user_groups(app, req: Request) -> Resp:
    idx, missing = _user(app, req, "id")
    if missing:
        return missing
    groups = sorted(app.state.person(idx).groups)
    return Resp(200, [group_json(app, g, req.base_url) for g in groups])


@router.add("DELETE", "/groups/{groupId}/users/{userId}", ("okta.groups.manage",), "groups")
def remove_from_group(app, req: Request) -> Resp:
    """Only OKTA_GROUP memberships can be removed; Everyone and app groups are refused."""
    g = app.org.ids.okta_group.parse(req.params["groupId"])
    if g is None or g >= len(data.GROUPS):
        return okta_error(
            404, "E0000007", f"Not found: Resource not found: {req.params['groupId']} (UserGroup)"
        )
    idx, missing = _user(app, req)
    if missing:
        return missing
    if data.GROUPS[g][1] != "OKTA_GROUP":
        return okta_error(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
            [f"Cannot remove users from a {data.GROUPS[g][1]} group"],
        )
    person = app.state.person(idx)
    applied = g in person.groups
    person.groups.discard(g)
    return Resp(204, applied=applied)


def _app_link(app, idx: int, a: int, base: str) -> dict:
    name, label = data.APPS[a]
    app_id = app.org.ids.okta_app.make(a)
    return {
        "id": app_id,
        "appAssignmentId": "0ua" + app.org.ids.okta_user.make(idx)[3:17] + f"{a:03d}",
        "appInstanceId": app_id,
        "appName": name,
        "credentialsSetup": False,
        "hidden": False,
        "label": label,
        "linkUrl": f"{base}/okta/home/{name}/{app_id}/alnk{a}",
        "logoUrl": f"{base}/okta/assets/img/logos/{name}.png",
        "sortOrder": a,
    }


@router.add("GET", "/users/{id}/appLinks", USERS_READ, "user_get")
def app_links(app, req: Request) -> Resp:
    idx, missing = _user(app, req, "id")
    if missing:
        return missing
    return Resp(200, [_app_link(app, idx, a, req.base_url) for a in app.state.person(idx).apps])


@router.add("DELETE", "/apps/{appId}/users/{userId}", ("okta.apps.manage",), "apps")
def unassign_app(app, req: Request) -> Resp:
    a = app.org.ids.okta_app.parse(req.params["appId"])
    if a is None or a >= len(data.APPS):
        return okta_error(
            404, "E0000007", f"Not found: Resource not found: {req.params['appId']} (App)"
        )
    idx, missing = _user(app, req)
    if missing:
        return missing
    person = app.state.person(idx)
    if a not in person.apps:
        return okta_error(
            404, "E0000007", f"Not found: Resource not found: {req.params['userId']} (AppUser)"
        )
    person.apps = [x for x in person.apps if x != a]
    return Resp(204, applied=True)


def _factor_json(app, idx: int, k: int, kind: str, base: str) -> dict:
    fid = app.org.ids.okta_factor.make(idx, k)
    provider, vendor = FACTOR_META[kind]
    uid = app.org.ids.okta_user.make(idx)
    return {
        "id": fid,
        "factorType": kind,
        "provider": provider,
        "vendorName": vendor,
        "status": "ACTIVE",
        "created": iso(app.org.created(idx)),
        "lastUpdated": iso(app.org.created(idx)),
        "profile": {"credentialId": app.org.email[idx]},
        "_links": {
            "self": {
                "href": f"{base}/okta/api/v1/users/{uid}/factors/{fid}",
                "hints": {"allow": ["GET", "DELETE"]},
            }
        },
    }


@router.add("GET", "/users/{userId}/factors", USERS_READ, "user_get")
def list_factors(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    factors = app.state.person(idx).factors
    return Resp(
        200, [_factor_json(app, idx, k, t, req.base_url) for k, t in sorted(factors.items())]
    )


@router.add("DELETE", "/users/{userId}/factors/{factorId}", USERS_MANAGE, "user_write")
def delete_factor(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    found = app.org.ids.okta_factor.parse(req.params["factorId"], sub=True)
    person = app.state.person(idx)
    if not found or found[0] != idx or found[1] not in person.factors:
        return okta_error(
            404, "E0000007", f"Not found: Resource not found: {req.params['factorId']} (UserFactor)"
        )
    if person.okta_status == "DEPROVISIONED":
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: factor",
            ["Cannot unenroll a factor of a deactivated user"],
        )
    del person.factors[found[1]]
    return Resp(204, applied=True)


def _grant_json(app, idx: int, k: int, client: int, base: str) -> dict:
    gid = app.org.ids.okta_grant.make(idx, k)
    client_id = app.org.ids.okta_app.make(data.OAUTH_CLIENTS[client][1])
    uid = app.org.ids.okta_user.make(idx)
    return {
        "id": gid,
        "status": "ACTIVE",
        "created": iso(app.org.created(idx)),
        "lastUpdated": iso(app.org.created(idx)),
        "issuer": f"{base}/okta/oauth2/default",
        "clientId": client_id,
        "userId": uid,
        "scopeId": "scpCmCCV1DpxVkCaye2X",
        "source": "END_USER",
        "createdBy": {"id": uid, "type": "User"},
        "_links": {"self": {"href": f"{base}/okta/api/v1/users/{uid}/grants/{gid}"}},
    }


@router.add("GET", "/users/{userId}/grants", USERS_READ, "user_get")
def list_grants(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    grants = sorted(app.state.person(idx).grants.items())
    return Resp(200, [_grant_json(app, idx, k, c, req.base_url) for k, c in grants])


@router.add("DELETE", "/users/{userId}/grants", USERS_MANAGE, "user_write")
def revoke_grants(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    person = app.state.person(idx)
    applied = bool(person.grants)
    person.grants = {}
    return Resp(204, applied=applied)


def _client_number(app, client_id: str) -> int | None:
    a = app.org.ids.okta_app.parse(client_id)
    numbers = {app_no: i for i, (_, app_no) in enumerate(data.OAUTH_CLIENTS)}
    return numbers.get(a)


@router.add("GET", "/users/{userId}/clients", USERS_READ, "user_get")
def list_clients(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    person = app.state.person(idx)
    clients = sorted(set(person.grants.values()) | set(person.client_tokens))
    uid = app.org.ids.okta_user.make(idx)
    out = []
    for c in clients:
        cid = app.org.ids.okta_app.make(data.OAUTH_CLIENTS[c][1])
        links = {
            "self": {"href": f"{req.base_url}/okta/oauth2/v1/clients/{cid}"},
            "tokens": {"href": f"{req.base_url}/okta/api/v1/users/{uid}/clients/{cid}/tokens"},
            "grants": {"href": f"{req.base_url}/okta/api/v1/users/{uid}/clients/{cid}/grants"},
        }
        out.append(
            {
                "client_id": cid,
                "client_name": data.OAUTH_CLIENTS[c][0],
                "client_uri": f"https://{data.OAUTH_CLIENTS[c][0].lower().replace(' ', '')}.acme.example",
                "logo_uri": f"{req.base_url}/okta/assets/img/logos/oauth.png",
                "_links": links,
            }
        )
    return Resp(200, out)


def _client_target(app, req: Request):
    idx, missing = _user(app, req)
    if missing:
        return None, None, missing
    c = _client_number(app, req.params["clientId"])
    if c is None:
        return (
            None,
            None,
            okta_error(
                404, "E0000007", f"Not found: Resource not found: {req.params['clientId']} (Client)"
            ),
        )
    return idx, c, None


@router.add("DELETE", "/users/{userId}/clients/{clientId}/tokens", USERS_MANAGE, "user_write")
def revoke_client_tokens(app, req: Request) -> Resp:
    idx, c, problem = _client_target(app, req)
    if problem:
        return problem
    person = app.state.person(idx)
    applied = person.client_tokens.get(c, 0) > 0
    if c in person.client_tokens:
        person.client_tokens[c] = 0
    return Resp(204, applied=applied)


@router.add("DELETE", "/users/{userId}/clients/{clientId}/grants", USERS_MANAGE, "user_write")
def revoke_client_grants(app, req: Request) -> Resp:
    idx, c, problem = _client_target(app, req)
    if problem:
        return problem
    person = app.state.person(idx)
    before = len(person.grants)
    person.grants = {k: v for k, v in person.grants.items() if v != c}
    return Resp(204, applied=len(person.grants) != before)


def _device_json(app, idx: int, k: int, status: str, base: str) -> dict:
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


@router.add("GET", "/users/{userId}/devices", USERS_READ, "user_get")
def user_devices(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    devices = sorted(app.state.person(idx).okta_devices.items())
    return Resp(200, [_device_json(app, idx, k, s, req.base_url) for k, s in devices])


def _device_target(app, req: Request):
    found = app.org.ids.okta_device.parse(req.params["deviceId"], sub=True)
    if found and found[0] < app.org.n and found[1] in app.state.person(found[0]).okta_devices:
        return found, None
    return None, okta_error(
        404, "E0000007", f"Not found: Resource not found: {req.params['deviceId']} (Device)"
    )


@router.add("POST", "/devices/{deviceId}/lifecycle/suspend", ("okta.devices.manage",), "devices")
def suspend_device(app, req: Request) -> Resp:
    found, missing = _device_target(app, req)
    if missing:
        return missing
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
def deactivate_device(app, req: Request) -> Resp:
    found, missing = _device_target(app, req)
    if missing:
        return missing
    devices = app.state.person(found[0]).okta_devices
    applied = devices[found[1]] != "DEACTIVATED"
    devices[found[1]] = "DEACTIVATED"
    return Resp(204, applied=applied)
