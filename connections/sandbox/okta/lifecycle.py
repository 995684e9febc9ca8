"""Okta /api/v1/users lifecycle: suspend, unsuspend, deactivate, delete, reset factors, expire password, sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connections.sandbox.okta import events
from connections.sandbox.okta.errors import okta_error
from connections.sandbox.okta.users import MANAGE, user_json, user_not_found, user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.state import PersonState
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def _touch(app: App, idx: int, status: str | None = None) -> PersonState:
    person = app.state.person(idx)
    now = datetime.now(UTC)
    if status:
        person.okta_status = status
        person.status_changed = now
    person.last_updated = now
    return person


@router.add("POST", "/users/{id}/lifecycle/suspend", MANAGE, "user_write")
def suspend(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    if app.state.okta_status(idx) != "ACTIVE":
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: suspendUser",
            ["Cannot suspend a user that is not active"],
        )
    _touch(app, idx, "SUSPENDED")
    events.emit(app, "user.lifecycle.suspend", idx, auth=req.auth)
    return Resp(200, {}, applied=True)


@router.add("POST", "/users/{id}/lifecycle/unsuspend", MANAGE, "user_write")
def unsuspend(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    if app.state.okta_status(idx) != "SUSPENDED":
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: unsuspendUser",
            ["Cannot unsuspend a user that is not suspended"],
        )
    _touch(app, idx, "ACTIVE")
    events.emit(app, "user.lifecycle.unsuspend", idx, auth=req.auth)
    return Resp(200, {}, applied=True)


def _deprovision(app: App, idx: int) -> None:
    person = _touch(app, idx, "DEPROVISIONED")
    person.sessions = 0
    person.client_tokens = {}
    person.apps = []
    person.groups = set()


@router.add("POST", "/users/{id}/lifecycle/deactivate", MANAGE, "user_write")
def deactivate(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    if app.state.okta_status(idx) == "DEPROVISIONED":
        return user_not_found(req.params["id"])
    _deprovision(app, idx)
    events.emit(app, "user.lifecycle.deactivate", idx, auth=req.auth)
    return Resp(200, {}, applied=True)


@router.add("DELETE", "/users/{id}", MANAGE, "user_write")
def delete_user(app: App, req: Request) -> Resp:
    """First call deactivates, a second deletes (as Okta does)."""
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    if app.state.okta_status(idx) != "DEPROVISIONED":
        _deprovision(app, idx)
    else:
        _touch(app, idx).okta_deleted = True
    return Resp(204, applied=True)


@router.add("POST", "/users/{id}/lifecycle/reset_factors", MANAGE, "user_write")
def reset_factors(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    person = _touch(app, idx)
    changed = bool(person.factors)
    person.factors = {}
    return Resp(200, {}, applied=changed)


@router.add("POST", "/users/{id}/lifecycle/expire_password", MANAGE, "user_write")
def expire_password(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    if app.state.okta_status(idx) not in ("ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT"):
        return okta_error(
            403, "E0000038", "This operation is not allowed in the user's current status."
        )
    _touch(app, idx, "PASSWORD_EXPIRED")
    return Resp(200, user_json(app, idx, req.base_url), applied=True)


@router.add("DELETE", "/users/{id}/sessions", MANAGE, "user_write")
def clear_sessions(app: App, req: Request) -> Resp:
    """Clear sessions; oauthTokens=true also revokes tokens; forgetDevices defaults to true."""
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    person = _touch(app, idx)
    person.sessions = 0
    if (req.arg("oauthTokens") or "false").lower() == "true":
        person.client_tokens = dict.fromkeys(person.client_tokens, 0)
    if (req.arg("forgetDevices") or "true").lower() == "true":
        person.devices_forgotten = True
    return Resp(204, applied=True)
