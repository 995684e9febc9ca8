"""Google Directory mobile devices: list (with email: query and paging), get and action."""

from __future__ import annotations

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.google import (
    CUSTOMER_IDS,
    DEVICE_ACTIONS,
    MOBILE_ACTION,
    MOBILE_READ,
    _etag,
    not_found,
    router,
)
from connections.sandbox.web import Request, Resp, google_error


def _device_json(app, idx: int, k: int, status: str) -> dict:
    rid = app.org.ids.google_device.make(idx, k)
    android = (idx + k) % 2 == 0
    return {
        "kind": "admin#directory#mobiledevice",
        "etag": _etag(rid, status),
        "resourceId": rid,
        "deviceId": f"dev-{rid[6:18].lower()}",
        "email": [app.org.email[idx]],
        "name": [f"{app.org.first[idx]} {app.org.last[idx]}"],
        "model": "Pixel 8" if android else "iPhone 15",
        "os": "Android 14" if android else "iOS 17.4",
        "type": "ANDROID" if android else "IOS_SYNC",
        "status": status,
        "firstSync": iso(app.org.created(idx)),
        "lastSync": iso(app.state.person(idx).last_updated),
        "userAgent": "Google Apps Device Policy" if android else "iOS Account Manager",
    }


def _customer_ok(req: Request) -> Resp | None:
    if req.params["customerId"] in CUSTOMER_IDS:
        return None
    return google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")


def _devices_for(app, query: str | None) -> list[tuple[int, int, str]] | Resp:
    if query is None:
        return google_error(
            400,
            "Listing every device needs a query in the sandbox: use query=email:<address>",
            "invalid",
            "INVALID_ARGUMENT",
        )
    term = query.strip()
    if not term.lower().startswith("email:"):
        return google_error(400, "Invalid Input: query", "invalid", "INVALID_ARGUMENT")
    idx = app.org.find(term[6:].strip())
    if idx is None or not app.org.has(idx, data.F_GOOGLE):
        return []
    return [(idx, k, s) for k, s in sorted(app.state.person(idx).mobile.items())]


@router.add("GET", "/customer/{customerId}/devices/mobile", MOBILE_READ, "directory")
def list_devices(app, req: Request) -> Resp:
    bad = _customer_ok(req)
    if bad:
        return bad
    found = _devices_for(app, req.arg("query"))
    if isinstance(found, Resp):
        return found
    size = int(req.arg("maxResults") or 100) if (req.arg("maxResults") or "100").isdigit() else 100
    start = int(req.arg("pageToken") or 0) if (req.arg("pageToken") or "0").isdigit() else 0
    page = found[start : start + max(1, min(size, 100))]
    body = {
        "kind": "admin#directory#mobiledevices",
        "etag": _etag("devices", len(found)),
        "mobiledevices": [_device_json(app, i, k, s) for i, k, s in page],
    }
    if start + len(page) < len(found):
        body["nextPageToken"] = str(start + len(page))
    return Resp(200, body)


def _device(app, req: Request):
    found = app.org.ids.google_device.parse(req.params["resourceId"], sub=True)
    if found and found[0] < app.org.n and app.org.has(found[0], data.F_GOOGLE):
        if found[1] in app.state.person(found[0]).mobile:
            return found, None
    return None, not_found("resourceId")


@router.add("GET", "/customer/{customerId}/devices/mobile/{resourceId}", MOBILE_READ, "directory")
def get_device(app, req: Request) -> Resp:
    found, missing = _device(app, req)
    if missing:
        return missing
    idx, k = found
    return Resp(200, _device_json(app, idx, k, app.state.person(idx).mobile[k]))


@router.add(
    "POST", "/customer/{customerId}/devices/mobile/{resourceId}/action", MOBILE_ACTION, "directory"
)
def device_action(app, req: Request) -> Resp:
    bad = _customer_ok(req)
    if bad:
        return bad
    body = req.json()
    found, missing = _device(app, req)
    if missing:
        return missing
    action = body.get("action")
    if action not in DEVICE_ACTIONS:
        return google_error(400, "Invalid value for: action", "invalid", "INVALID_ARGUMENT")
    mobile = app.state.person(found[0]).mobile
    applied = mobile[found[1]] != DEVICE_ACTIONS[action]
    mobile[found[1]] = DEVICE_ACTIONS[action]
    return Resp(204, applied=applied)
