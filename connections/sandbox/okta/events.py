"""The simulated org's System Log and event hook deliveries (issue 14).

Every state change the API makes that Okta would log (suspend, unsuspend, deactivate, group
membership add, a user's "suspicious activity" report) is appended here as a `LogEvent`, served by
`GET /api/v1/logs` (syslog.py) and delivered to every ACTIVE, VERIFIED event hook that subscribed
to its type, as Okta does (CONTRACTS.md §1.6): a POST with the configured header, a 3-second
wait, at most one retry on a 5xx or no answer, never a retry on a 4xx. Deliveries run on their
own threads, so they never hold up the API call that caused them.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connections.sandbox.app import App

DELIVERY_TIMEOUT = 3.0
RETRY_PAUSE = 0.5
MAX_DELIVERY_LOG = 10_000


@dataclass
class HookRegistration:
    """One event hook as Okta keeps it (the auth value is write-only in the API)."""

    id: str
    name: str
    uri: str
    header_key: str
    header_value: str
    event_types: list[str]
    created: str
    status: str = "ACTIVE"
    verification: str = "UNVERIFIED"


@dataclass
class EventStore:
    """The org's System Log (in persistence order) and its event hooks."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    events: list[dict[str, Any]] = field(default_factory=list)
    hooks: dict[str, HookRegistration] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    paused: bool = (
        False  # a control switch: events are logged but not delivered (a missed delivery)
    )


def store(app: App) -> EventStore:
    """The app's event store, made on first use (App.reset drops it)."""
    found = app.__dict__.get("okta_events")
    if found is None:
        found = app.__dict__.setdefault("okta_events", EventStore())
    return found


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _user_target(app: App, idx: int) -> dict[str, Any]:
    org = app.org
    return {
        "id": org.ids.okta_user.make(idx),
        "type": "User",
        "alternateId": org.email[idx],
        "displayName": f"{org.first[idx]} {org.last[idx]}",
    }


def _actor(app: App, auth: dict | None, idx: int, by_user: bool) -> dict[str, Any]:
    if by_user:
        return _user_target(app, idx)
    client = str((auth or {}).get("client_id") or "sandbox-admin")
    kind = "User" if (auth or {}).get("ssws") else "PublicClientApp"
    return {"id": client, "type": kind, "alternateId": client, "displayName": "Portal API client"}


def emit(
    app: App,
    event_type: str,
    idx: int,
    *,
    auth: dict | None = None,
    group: tuple[str, str] | None = None,
    by_user: bool = False,
) -> dict[str, Any]:
    """Log one event about person `idx` (and `group` (id, name)) and deliver it to the hooks."""
    targets = [_user_target(app, idx)]
    if group is not None:
        targets.append(
            {"id": group[0], "type": "UserGroup", "alternateId": "unknown", "displayName": group[1]}
        )
    event = {
        "uuid": str(uuid.uuid4()),
        "published": now_iso(),
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "displayMessage": event_type,
        "actor": _actor(app, auth, idx, by_user),
        "client": {"ipAddress": "127.0.0.1", "userAgent": {"rawUserAgent": "sandbox"}},
        "outcome": {"result": "SUCCESS"},
        "target": targets,
        "transaction": {"type": "WEB", "id": uuid.uuid4().hex, "detail": {}},
        "debugContext": {"debugData": {}},
        "authenticationContext": {"authenticationStep": 0, "externalSessionId": "sandbox"},
        "securityContext": {},
        "request": {"ipChain": []},
    }
    events = store(app)
    with events.lock:
        events.events.append(event)
        hooks = [] if events.paused else list(events.hooks.values())
    for hook in hooks:
        if hook.status == "ACTIVE" and hook.verification == "VERIFIED":
            if event_type in hook.event_types:
                envelope = _envelope(hook, event)
                threading.Thread(
                    target=_deliver, args=(events, hook, envelope), daemon=True
                ).start()
    return event


def _envelope(hook: HookRegistration, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": f"/okta/api/v1/eventHooks/{hook.id}",
        "eventId": str(uuid.uuid4()),
        "eventTime": now_iso(),
        "contentType": "application/json",
        "data": {"events": [event]},
    }


def call_hook(
    hook: HookRegistration, method: str, body: bytes | None, extra: dict[str, str] | None = None
) -> tuple[int | None, bytes]:
    """One HTTP call to the hook's URI with its header; (status, body), status None on no answer."""
    headers = {"Accept": "application/json", hook.header_key: hook.header_value, **(extra or {})}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(hook.uri, data=body, method=method, headers=headers)  # noqa: S310 (the registered URI)
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as answer:  # noqa: S310
            return answer.status, answer.read(65536)
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (urllib.error.URLError, OSError, TimeoutError):
        return None, b""


def _deliver(events: EventStore, hook: HookRegistration, envelope: dict[str, Any]) -> None:
    """POST once; retry once on a 5xx or no answer (Okta's rule), never on a 4xx."""
    body = json.dumps(envelope).encode()
    attempts: list[int | None] = []
    started = time.time()
    for attempt in (1, 2):
        status, _ = call_hook(hook, "POST", body)
        attempts.append(status)
        if status is not None and status < 500:
            break
        if attempt == 1:
            time.sleep(RETRY_PAUSE)
    with events.lock:
        events.deliveries.append(
            {
                "hook": hook.id,
                "eventId": envelope["eventId"],
                "uuids": [e["uuid"] for e in envelope["data"]["events"]],
                "attempts": attempts,
                "delivered": bool(attempts[-1] and 200 <= attempts[-1] < 300),
                "emitted_at": envelope["eventTime"],
                "seconds": round(time.time() - started, 3),
            }
        )
        del events.deliveries[:-MAX_DELIVERY_LOG]
