"""Google Directory mobile devices: list (with email: query and paging), get and action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.google.errors import google_error, invalid, not_found
from connections.sandbox.google.users import etag
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
MOBILE_READ = ("device.mobile", "device.mobile.action", "device.mobile.readonly")
MOBILE_ACTION = ("device.mobile", "device.mobile.action")
CUSTOMER_IDS = ("my_customer", "C03acme01")
DEVICE_ACTIONS = {
    "admin_account_wipe": "ACCOUNT_WIPING",
    "admin_remote_wipe": "WIPING",
    "approve": "APPROVED",
    "block": "BLOCKED",
    "cancel_remote_wipe_then_activate": "APPROVED",
    "cancel_remote_wipe_then_block": "BLOCKED",
}


def _device_json(app: App, idx: int, k: int, status: str) -> dict:
    rid = app.org.ids.google_device.make(idx, k)
    android = (idx + k) % 2 == 0
    return {
        "kind": "admin#directory#mobiledevice",
        "etag": etag(rid, status),
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


def _devices_for(app: App, query: str | None) -> list[tuple[int, int, str]] | Resp:
    if query is None:
        return google_error(
            400,
            "Listing every device needs a query in the sandbox: use query=email:<address>",
            "invalid",
            "INVALID_ARGUMENT",
        )
    term = query.strip()
    if not term.lower().startswith("email:"):
        return invalid("Invalid Input: query")
    idx = app.org.find(term[6:].strip())
    if idx is None or not app.org.has(idx, data.F_GOOGLE):
        return []
    return [(idx, k, s) for k, s in sorted(app.state.person(idx).mobile.items())]


@router.add("GET", "/customer/{customerId}/devices/mobile", MOBILE_READ, "directory")
def list_devices(app: App, req: Request) -> Resp:
    bad = _customer_ok(req)
    if bad:
        return bad
    found = _devices_for(app, req.arg("query"))
    if isinstance(found, Resp):
        return found
    size = int(req.arg("maxResults") or 100) if (req.arg("maxResults") or "100").isdigit() else 100
    start = int(req.arg("pageToken") or 0) if (req.arg("pageToken") or "0").isdigit() else 0
    page = found[start : start + max(1, min(size, 100))]
    body: dict[str, object] = {
        "kind": "admin#directory#mobiledevices",
        "etag": etag("devices", len(found)),
        "mobiledevices": [_device_json(app, i, k, s) for i, k, s in page],
    }
    if start + len(page) < len(found):
        body["nextPageToken"] = str(start + len(page))
    return Resp(200, body)


def _device(app: App, req: Request) -> tuple[int, int] | Resp:
    """(owner index, device number) of {resourceId}, or Google's 404."""
    found = app.org.ids.google_device.parse(req.params["resourceId"], sub=True)
    if found and found[0] < app.org.n and app.org.has(found[0], data.F_GOOGLE):
        if found[1] in app.state.person(found[0]).mobile:
            return found
    return not_found("resourceId")


@router.add("GET", "/customer/{customerId}/devices/mobile/{resourceId}", MOBILE_READ, "directory")
def get_device(app: App, req: Request) -> Resp:
    found = _device(app, req)
    if isinstance(found, Resp):
        return found
    idx, k = found
    return Resp(200, _device_json(app, idx, k, app.state.person(idx).mobile[k]))


@router.add(
    "POST", "/customer/{customerId}/devices/mobile/{resourceId}/action", MOBILE_ACTION, "directory"
)
def device_action(app: App, req: Request) -> Resp:
    bad = _customer_ok(req)
    if bad:
        return bad
    body = req.json()
    found = _device(app, req)
    if isinstance(found, Resp):
        return found
    action = body.get("action")
    if action not in DEVICE_ACTIONS:
        return invalid("Invalid value for: action")
    mobile = app.state.person(found[0]).mobile
    applied = mobile[found[1]] != DEVICE_ACTIONS[action]
    mobile[found[1]] = DEVICE_ACTIONS[action]
    return Resp(204, applied=applied)
