"""Google Directory users: the User resource, get, update (suspended) and signOut."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.google.errors import invalid, not_found
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
USER_READ = ("user", "user.readonly")
USER_WRITE = ("user",)
SECURITY = ("user.security",)


def etag(*parts: object) -> str:
    """A stable etag for a resource's identity and state."""
    return (
        '"'
        + hashlib.sha1("|".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()[:27]
        + '"'
    )


def find_user(app: App, key: str) -> int | None:
    idx = app.org.ids.google_user.parse(key)
    if idx is None or idx >= app.org.n:
        idx = app.org.find(key) if "@" in key else None
    if idx is None or not app.org.has(idx, data.F_GOOGLE):
        return None
    return idx


def user_json(app: App, idx: int) -> dict:
    """The Directory User resource."""
    org, person = app.org, app.state.person(idx)
    created = org.created(idx)
    body = {
        "kind": "admin#directory#user",
        "id": org.ids.google_user.make(idx),
        "etag": etag(idx, person.google_suspended),
        "primaryEmail": org.email[idx],
        "name": {
            "givenName": org.first[idx],
            "familyName": org.last[idx],
            "fullName": f"{org.first[idx]} {org.last[idx]}",
        },
        "isAdmin": org.has(idx, data.F_GADMIN),
        "isDelegatedAdmin": org.has(idx, data.F_ADMINS) and not org.has(idx, data.F_GADMIN),
        "lastLoginTime": iso(person.last_updated),
        "creationTime": iso(created),
        "agreedToTerms": True,
        "suspended": person.google_suspended,
        "archived": False,
        "changePasswordAtNextLogin": False,
        "ipWhitelisted": False,
        "emails": [{"address": org.email[idx], "primary": True}],
        "customerId": "C03acme01",
        "orgUnitPath": "/" + data.DEPARTMENTS[org.dept[idx]],
        "isMailboxSetup": True,
        "isEnrolledIn2Sv": bool(person.factors),
        "isEnforcedIn2Sv": False,
        "includeInGlobalAddressList": True,
    }
    if person.google_suspended:
        body["suspensionReason"] = "ADMIN"
    return body


def user_or_404(app: App, req: Request) -> int | Resp:
    """The index of the {userKey} user, or Google's 404."""
    idx = find_user(app, req.params["userKey"])
    return not_found() if idx is None else idx


@router.add("GET", "/users/{userKey}", USER_READ, "directory")
def get_user(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    return Resp(200, user_json(app, idx))


@router.add("PUT", "/users/{userKey}", USER_WRITE, "directory")
@router.add("PATCH", "/users/{userKey}", USER_WRITE, "directory")
def update_user(app: App, req: Request) -> Resp:
    """Only `suspended` is acted on; other writable fields are accepted and ignored."""
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    body = req.json()
    if "suspended" not in body:
        return Resp(200, user_json(app, idx))
    if not isinstance(body["suspended"], bool):
        return invalid("Invalid Input: suspended")
    person = app.state.person(idx)
    applied = person.google_suspended != body["suspended"]
    person.google_suspended = body["suspended"]
    return Resp(200, user_json(app, idx), applied=applied)


@router.add("POST", "/users/{userKey}/signOut", SECURITY, "directory")
def sign_out(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    person.google_signouts += 1
    person.google_signed_out_at = datetime.now(UTC).isoformat()
    return Resp(204, applied=True)
