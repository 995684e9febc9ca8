"""Google Admin SDK Directory API /admin/directory/v1: users, tokens, ASPs, backup codes, mobile devices."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp, google_error

router = Router()
USER_READ = ("user", "user.readonly")
USER_WRITE = ("user",)
SECURITY = ("user.security",)
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


def _etag(*parts) -> str:
    return (
        '"'
        + hashlib.sha1("|".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()[:27]
        + '"'
    )


def not_found(what: str = "userKey") -> Resp:
    return google_error(404, f"Resource Not Found: {what}", "notFound", "NOT_FOUND")


def find_user(app, key: str) -> int | None:
    idx = app.org.ids.google_user.parse(key)
    if idx is None or idx >= app.org.n:
        idx = app.org.find(key) if "@" in key else None
    if idx is None or not app.org.has(idx, data.F_GOOGLE):
        return None
    return idx


def user_json(app, idx: int) -> dict:
    """The Directory User resource."""
    org, person = app.org, app.state.person(idx)
    created = org.created(idx)
    body = {
        "kind": "admin#directory#user",
        "id": org.ids.google_user.make(idx),
        "etag": _etag(idx, person.google_suspended),
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


def _user(app, req: Request):
    idx = find_user(app, req.params["userKey"])
    return idx, (not_found() if idx is None else None)


@router.add("GET", "/users/{userKey}", USER_READ, "directory")
def get_user(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    return missing or Resp(200, user_json(app, idx))


@router.add("PUT", "/users/{userKey}", USER_WRITE, "directory")
@router.add("PATCH", "/users/{userKey}", USER_WRITE, "directory")
def update_user(app, req: Request) -> Resp:
    """Only `suspended` is acted on; other writable fields are accepted and ignored."""
    idx, missing = _user(app, req)
    if missing:
        return missing
    body = req.json()
    if "suspended" not in body:
        return Resp(200, user_json(app, idx))
    if not isinstance(body["suspended"], bool):
        return google_error(400, "Invalid Input: suspended", "invalid", "INVALID_ARGUMENT")
    person = app.state.person(idx)
    applied = person.google_suspended != body["suspended"]
    person.google_suspended = body["suspended"]
    return Resp(200, user_json(app, idx), applied=applied)


@router.add("POST", "/users/{userKey}/signOut", SECURITY, "directory")
def sign_out(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    person = app.state.person(idx)
    person.google_signouts += 1
    person.google_signed_out_at = datetime.now(UTC).isoformat()
    return Resp(204, applied=True)


def _token_json(app, idx: int, c: int) -> dict:
    name, client_id = data.GOOGLE_CLIENTS[c]
    scopes = ["openid", "https://www.googleapis.com/auth/userinfo.email"]
    if c == 2:
        scopes.append("https://www.googleapis.com/auth/drive")
    return {
        "kind": "admin#directory#token",
        "etag": _etag(idx, c),
        "clientId": client_id,
        "displayText": name,
        "anonymous": False,
        "nativeApp": c == 2,
        "scopes": scopes,
        "userKey": app.org.ids.google_user.make(idx),
    }


@router.add("GET", "/users/{userKey}/tokens", SECURITY, "directory")
def list_tokens(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    items = [_token_json(app, idx, c) for c in sorted(app.state.person(idx).google_tokens)]
    body = {"kind": "admin#directory#tokenList", "etag": _etag(idx, "tokens", len(items))}
    if items:  # Google omits an empty list
        body["items"] = items
    return Resp(200, body)


def _client(client_id: str) -> int | None:
    return next((i for i, (_, cid) in enumerate(data.GOOGLE_CLIENTS) if cid == client_id), None)


@router.add("GET", "/users/{userKey}/tokens/{clientId}", SECURITY, "directory")
def get_token(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    c = _client(req.params["clientId"])
    if c is None or c not in app.state.person(idx).google_tokens:
        return not_found("clientId")
    return Resp(200, _token_json(app, idx, c))


@router.add("DELETE", "/users/{userKey}/tokens/{clientId}", SECURITY, "directory")
def delete_token(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    c = _client(req.params["clientId"])
    tokens = app.state.person(idx).google_tokens
    if c is None or c not in tokens:
        return not_found("clientId")
    del tokens[c]
    return Resp(204, applied=True)


@router.add("GET", "/users/{userKey}/asps", SECURITY, "directory")
def list_asps(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    created = int(app.org.created(idx).timestamp() * 1000)
    items = [
        {
            "kind": "admin#directory#asp",
            "etag": _etag(idx, code),
            "codeId": code,
            "name": name,
            "creationTime": str(created),
            "lastTimeUsed": str(created + 86_400_000),
            "userKey": app.org.ids.google_user.make(idx),
        }
        for code, name in sorted(app.state.person(idx).google_asps.items())
    ]
    body = {"kind": "admin#directory#aspList", "etag": _etag(idx, "asps", len(items))}
    if items:
        body["items"] = items
    return Resp(200, body)


@router.add("DELETE", "/users/{userKey}/asps/{codeId}", SECURITY, "directory")
def delete_asp(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    raw = req.params["codeId"]
    if not raw.lstrip("-").isdigit():
        return google_error(400, "Invalid value for: codeId", "invalid", "INVALID_ARGUMENT")
    asps = app.state.person(idx).google_asps
    if int(raw) not in asps:
        return not_found("codeId")
    del asps[int(raw)]
    return Resp(204, applied=True)


@router.add("GET", "/users/{userKey}/verificationCodes", SECURITY, "directory")
def list_codes(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    gen = app.state.person(idx).backup_codes_generation
    uid = app.org.ids.google_user.make(idx)
    seedling = hashlib.sha256(f"{uid}:{gen}".encode()).hexdigest()
    items = [
        {
            "kind": "admin#directory#verificationCode",
            "etag": _etag(uid, gen, i),
            "userId": uid,
            "verificationCode": str(int(seedling[i * 8 : i * 8 + 8], 16) % 10**8).zfill(8),
        }
        for i in range(8)
    ]
    return Resp(
        200,
        {"kind": "admin#directory#verificationCodesList", "etag": _etag(uid, gen), "items": items},
    )


@router.add("POST", "/users/{userKey}/verificationCodes/invalidate", SECURITY, "directory")
def invalidate_codes(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    if missing:
        return missing
    app.state.person(idx).backup_codes_generation += 1
    return Resp(204, applied=True)


@router.add("POST", "/users/{userKey}/twoStepVerification/turnOff", SECURITY, "directory")
def turn_off_2sv(app, req: Request) -> Resp:
    idx, missing = _user(app, req)
    return missing or Resp(204, applied=True)
