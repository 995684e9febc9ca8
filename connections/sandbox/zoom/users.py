"""Zoom /v2/users: the user object, get, update status, revoke the SSO token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso_seconds
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp
from connections.sandbox.zoom.errors import zoom_error

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def find_user(app: App, key: str) -> int | None:
    idx = app.org.find(key) if "@" in key else app.org.ids.zoom_user.parse(key)
    if idx is None or idx >= app.org.n or not app.org.has(idx, data.F_ZOOM):
        return None
    return idx


def _user(app: App, req: Request) -> int | Resp:
    key = req.params["userId"]
    idx = find_user(app, key)
    return zoom_error(404, 1001, f"User does not exist: {key}.") if idx is None else idx


def user_json(app: App, idx: int) -> dict:
    """The Zoom user object."""
    org, person = app.org, app.state.person(idx)
    zid = org.ids.zoom_user.make(idx)
    pmi = 1000000000 + (idx * 7919) % 8999999999
    return {
        "id": zid,
        "first_name": org.first[idx],
        "last_name": org.last[idx],
        "display_name": f"{org.first[idx]} {org.last[idx]}",
        "email": org.email[idx],
        "type": 2 if idx % 3 else 1,
        "role_name": "Owner" if org.has(idx, data.F_GADMIN) else "Member",
        "pmi": pmi,
        "use_pmi": False,
        "personal_meeting_url": f"https://acme.zoom.example/j/{pmi}",
        "timezone": "Europe/Berlin",
        "verified": 1,
        "dept": data.DEPARTMENTS[org.dept[idx]],
        "created_at": iso_seconds(org.created(idx)),
        "user_created_at": iso_seconds(org.created(idx)),
        "last_login_time": iso_seconds(person.last_updated),
        "language": "en-US",
        "status": person.zoom_status,
        "role_id": "0" if org.has(idx, data.F_GADMIN) else "2",
        "account_id": "sandboxAcmeAccount0001",
        "account_number": 1234567890,
        "cluster": "us06",
    }


@router.add("GET", "/users/{userId}", (), "light")
def get_user(app: App, req: Request) -> Resp:
    idx = _user(app, req)
    if isinstance(idx, Resp):
        return idx
    return Resp(200, user_json(app, idx))


@router.add("PUT", "/users/{userId}/status", (), "light")
def update_status(app: App, req: Request) -> Resp:
    """{"action": "deactivate"|"activate"}; 204. The account owner cannot be changed."""
    body = req.json()
    idx = _user(app, req)
    if isinstance(idx, Resp):
        return idx
    action = body.get("action")
    if action not in ("activate", "deactivate"):
        return zoom_error(400, 300, "Invalid action: must be activate or deactivate.")
    if app.org.has(idx, data.F_GADMIN):
        return zoom_error(400, 200, "Can not change the status of the account owner.")
    person = app.state.person(idx)
    wanted = "active" if action == "activate" else "inactive"
    applied = person.zoom_status != wanted
    person.zoom_status = wanted
    return Resp(204, applied=applied)


@router.add("DELETE", "/users/{userId}/token", (), "light")
def revoke_token(app: App, req: Request) -> Resp:
    idx = _user(app, req)
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    applied = person.zoom_sso_tokens > 0
    person.zoom_sso_tokens = 0
    return Resp(204, applied=applied)
