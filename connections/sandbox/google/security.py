"""Google Directory user security: OAuth tokens, app-specific passwords, backup codes, 2-step verification."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.google.errors import invalid, not_found
from connections.sandbox.google.users import SECURITY, etag, user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def _token_json(app: App, idx: int, c: int) -> dict:
    name, client_id = data.GOOGLE_CLIENTS[c]
    scopes = ["openid", "https://www.googleapis.com/auth/userinfo.email"]
    if c == 2:
        scopes.append("https://www.googleapis.com/auth/drive")
    return {
        "kind": "admin#directory#token",
        "etag": etag(idx, c),
        "clientId": client_id,
        "displayText": name,
        "anonymous": False,
        "nativeApp": c == 2,
        "scopes": scopes,
        "userKey": app.org.ids.google_user.make(idx),
    }


@router.add("GET", "/users/{userKey}/tokens", SECURITY, "directory")
def list_tokens(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    items = [_token_json(app, idx, c) for c in sorted(app.state.person(idx).google_tokens)]
    body: dict[str, object] = {
        "kind": "admin#directory#tokenList",
        "etag": etag(idx, "tokens", len(items)),
    }
    if items:  # Google omits an empty list
        body["items"] = items
    return Resp(200, body)


def _client(client_id: str) -> int | None:
    return next((i for i, (_, cid) in enumerate(data.GOOGLE_CLIENTS) if cid == client_id), None)


@router.add("GET", "/users/{userKey}/tokens/{clientId}", SECURITY, "directory")
def get_token(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    c = _client(req.params["clientId"])
    if c is None or c not in app.state.person(idx).google_tokens:
        return not_found("clientId")
    return Resp(200, _token_json(app, idx, c))


@router.add("DELETE", "/users/{userKey}/tokens/{clientId}", SECURITY, "directory")
def delete_token(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    c = _client(req.params["clientId"])
    tokens = app.state.person(idx).google_tokens
    if c is None or c not in tokens:
        return not_found("clientId")
    del tokens[c]
    return Resp(204, applied=True)


@router.add("GET", "/users/{userKey}/asps", SECURITY, "directory")
def list_asps(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    created = int(app.org.created(idx).timestamp() * 1000)
    items = [
        {
            "kind": "admin#directory#asp",
            "etag": etag(idx, code),
            "codeId": code,
            "name": name,
            "creationTime": str(created),
            "lastTimeUsed": str(created + 86_400_000),
            "userKey": app.org.ids.google_user.make(idx),
        }
        for code, name in sorted(app.state.person(idx).google_asps.items())
    ]
    body: dict[str, object] = {
        "kind": "admin#directory#aspList",
        "etag": etag(idx, "asps", len(items)),
    }
    if items:
        body["items"] = items
    return Resp(200, body)


@router.add("DELETE", "/users/{userKey}/asps/{codeId}", SECURITY, "directory")
def delete_asp(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    raw = req.params["codeId"]
    if not raw.lstrip("-").isdigit():
        return invalid("Invalid value for: codeId")
    asps = app.state.person(idx).google_asps
    if int(raw) not in asps:
        return not_found("codeId")
    del asps[int(raw)]
    return Resp(204, applied=True)


@router.add("GET", "/users/{userKey}/verificationCodes", SECURITY, "directory")
def list_codes(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    gen = app.state.person(idx).backup_codes_generation
    uid = app.org.ids.google_user.make(idx)
    if gen:  # invalidated: none are valid until the person (or an admin) generates new ones
        return Resp(200, {"kind": "admin#directory#verificationCodesList", "etag": etag(uid, gen)})
    seedling = hashlib.sha256(f"{uid}:{gen}".encode()).hexdigest()
    items = [
        {
            "kind": "admin#directory#verificationCode",
            "etag": etag(uid, gen, i),
            "userId": uid,
            "verificationCode": str(int(seedling[i * 8 : i * 8 + 8], 16) % 10**8).zfill(8),
        }
        for i in range(8)
    ]
    return Resp(
        200,
        {"kind": "admin#directory#verificationCodesList", "etag": etag(uid, gen), "items": items},
    )


@router.add("POST", "/users/{userKey}/verificationCodes/invalidate", SECURITY, "directory")
def invalidate_codes(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    # Google answers 204 whether or not any code was valid; only the first call changes anything
    # (the effect log's "applied" says whether state changed, as for Graph's device PATCH).
    applied = person.backup_codes_generation == 0
    person.backup_codes_generation += 1
    return Resp(204, applied=applied)


@router.add("POST", "/users/{userKey}/twoStepVerification/turnOff", SECURITY, "directory")
def turn_off_2sv(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    return Resp(204, applied=True)
