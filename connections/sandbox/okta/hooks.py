"""Okta /api/v1/eventHooks (register, list, verify), assigning a user to a group, and the control
calls for event hooks: a user's "suspicious activity" report, pausing deliveries, the delivery log.

Verification works as Okta's does: the verify call sends the hook's URI one GET with
`X-Okta-Verification-Challenge` (and the configured header) and expects `{"verification": …}`.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from connections.sandbox.control import error
from connections.sandbox.okta import events
from connections.sandbox.okta.errors import not_found, okta_error
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
control = Router()  # mounted under /_sandbox/
MANAGE = ("okta.eventHooks.manage",)
MAX_EVENT_TYPES = 300


def hook_json(hook: events.HookRegistration, base: str) -> dict[str, Any]:
    """The EventHook as Okta returns it: the auth value is never sent back."""
    link = f"{base}/okta/api/v1/eventHooks/{hook.id}"
    return {
        "id": hook.id,
        "name": hook.name,
        "status": hook.status,
        "verificationStatus": hook.verification,
        "created": hook.created,
        "lastUpdated": hook.created,
        "createdBy": "sandbox-admin",
        "description": None,
        "events": {"type": "EVENT_TYPE", "items": list(hook.event_types), "filter": None},
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": hook.uri,
                "headers": [],
                "method": "POST",
                "authScheme": {"type": "HEADER", "key": hook.header_key},
            },
        },
        "_links": {
            "self": {"href": link},
            "verify": {"href": f"{link}/lifecycle/verify"},
            "deactivate": {"href": f"{link}/lifecycle/deactivate"},
        },
    }


def _invalid(cause: str) -> Resp:
    return okta_error(400, "E0000001", "Api validation failed: eventHook", [cause])


def _parse_hook(body: dict) -> tuple[str, str, str, str, list[str]] | str:
    """(name, uri, header key, header value, event types), or what is wrong in words."""
    channel = body.get("channel") or {}
    config = channel.get("config") or {} if isinstance(channel, dict) else {}
    auth = config.get("authScheme") or {} if isinstance(config, dict) else {}
    items = (
        (body.get("events") or {}).get("items") if isinstance(body.get("events"), dict) else None
    )
    name, uri = body.get("name"), config.get("uri") if isinstance(config, dict) else None
    if not isinstance(name, str) or not name.strip():
        return "name: The field cannot be left blank"
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
        return "channel.config.uri: must be an http(s) URL"
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        return "events.items: at least one event type is required"
    if len(items) > MAX_EVENT_TYPES:
        return f"events.items: at most {MAX_EVENT_TYPES} event types"
    if not isinstance(auth, dict) or auth.get("type") != "HEADER":
        return "channel.config.authScheme: type HEADER with key and value is required"
    key, value = auth.get("key"), auth.get("value")
    if not isinstance(key, str) or not key or not isinstance(value, str) or not value:
        return "channel.config.authScheme: key and value are required"
    return name.strip(), uri, key, value, list(dict.fromkeys(items))


@router.add("POST", "/eventHooks", MANAGE, "default")
def create_hook(app: App, req: Request) -> Resp:
    parsed = _parse_hook(req.json())
    if isinstance(parsed, str):
        return _invalid(parsed)
    name, uri, key, value, items = parsed
    hook = events.HookRegistration(
        id="who" + secrets.token_hex(8),
        name=name,
        uri=uri,
        header_key=key,
        header_value=value,
        event_types=items,
        created=events.now_iso(),
    )
    store = events.store(app)
    with store.lock:
        store.hooks[hook.id] = hook
    return Resp(200, hook_json(hook, req.base_url), applied=True)


@router.add("GET", "/eventHooks", MANAGE, "default")
def list_hooks(app: App, req: Request) -> Resp:
    store = events.store(app)
    with store.lock:
        hooks = list(store.hooks.values())
    return Resp(200, [hook_json(h, req.base_url) for h in hooks])


@router.add("POST", "/eventHooks/{id}/lifecycle/verify", MANAGE, "default")
def verify_hook(app: App, req: Request) -> Resp:
    store = events.store(app)
    hook = store.hooks.get(req.params["id"])
    if hook is None:
        return not_found(req.params["id"], "EventHook")
    challenge = secrets.token_urlsafe(24)
    status, body = events.call_hook(hook, "GET", None, {"X-Okta-Verification-Challenge": challenge})
    try:
        echoed = json.loads(body or b"{}").get("verification") if status == 200 else None
    except (ValueError, AttributeError):
        echoed = None
    if echoed != challenge:
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: verifyEventHook",
            [f"Event hook verification failed (the endpoint answered {status or 'nothing'})."],
        )
    hook.verification = "VERIFIED"
    return Resp(200, hook_json(hook, req.base_url), applied=True)


@control.add("POST", "/okta/people/{email}/report-suspicious")
def report_suspicious(app: App, req: Request) -> Resp:
    """The person reports suspicious activity (as from Okta's end-user notification email)."""
    idx = app.org.find(req.params["email"])
    if idx is None:
        return error(404, "unknown person")
    event = events.emit(
        app, "user.account.report_suspicious_activity_by_enduser", idx, by_user=True
    )
    return Resp(200, event)


@control.add("GET", "/okta/event-hooks")
def hook_log(app: App, req: Request) -> Resp:
    """The hooks, the delivery log (newest last) and the System Log size."""
    store = events.store(app)
    with store.lock:
        return Resp(
            200,
            {
                "hooks": [hook_json(h, req.base_url) for h in store.hooks.values()],
                "deliveries": list(store.deliveries),
                "events": len(store.events),
                "paused": store.paused,
            },
        )


@control.add("POST", "/okta/event-hooks/paused")
def pause(app: App, req: Request) -> Resp:
    """{"paused": true}: log events without delivering them (to show the reconciliation)."""
    store = events.store(app)
    store.paused = bool(req.json().get("paused", True))
    return Resp(200, {"paused": store.paused})
