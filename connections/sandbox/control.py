"""The /_sandbox/ control API: health, people, reset, effect log, faults, token TTL (systems add their own)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.faults import FaultError
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def error(status: int, message: str) -> Resp:
    """A control API error."""
    return Resp(status, {"error": message})


def person_view(app: App, idx: int) -> dict:
    """One person's state in every system (None for a system where they have no account)."""
    org = app.org
    p = app.state.person(idx)
    view: dict[str, object] = {
        "email": org.email[idx],
        "name": f"{org.first[idx]} {org.last[idx]}",
        "department": data.DEPARTMENTS[org.dept[idx]],
    }
    for system, provider in app.providers.items():
        view[system] = provider.person_view(app, idx, p)
    return view


@router.add("GET", "/health")
def health(app: App, req: Request) -> Resp:
    return Resp(
        200,
        {
            "status": "ok",
            "users": app.org.n,
            "seed": app.org.seed,
            "credentials_file": str(app.credentials_path),
        },
    )


@router.add("GET", "/personas")
def personas(app: App, req: Request) -> Resp:
    return Resp(
        200,
        [
            {
                "email": p.email,
                "name": f"{p.first} {p.last}",
                "okta_status": data.STATUSES[p.status],
                "note": p.note,
            }
            for p in data.PERSONAS
        ],
    )


@router.add("GET", "/people/{email}")
def person(app: App, req: Request) -> Resp:
    idx = app.org.find(req.params["email"])
    if idx is None:
        return error(404, f"no person {req.params['email']}")
    return Resp(200, person_view(app, idx))


@router.add("POST", "/reset")
def reset(app: App, req: Request) -> Resp:
    """Back to the seed: people, faults, effect log, rate counters, token TTL."""
    app.reset()
    return Resp(200, {"status": "reset"})


@router.add("GET", "/rate-usage")
def rate_usage(app: App, req: Request) -> Resp:
    """Calls counted against each rate bucket, per one-minute window (for benchmarks)."""
    return Resp(200, {"windows": app.buckets.windows()})


@router.add("GET", "/effects")
def effects(app: App, req: Request) -> Resp:
    since = req.arg("since") or "0"
    if not since.isdigit():
        return error(400, "since must be an integer")
    return Resp(
        200,
        {
            "effects": app.state.effects_since(int(since), req.arg("system")),
            "last_seq": app.state.seq,
        },
    )


@router.add("DELETE", "/effects")
def clear_effects(app: App, req: Request) -> Resp:
    app.state.clear_effects()
    return Resp(204)


@router.add("GET", "/faults")
def get_faults(app: App, req: Request) -> Resp:
    return Resp(200, app.faults.describe())


@router.add("PUT", "/faults")
def put_faults(app: App, req: Request) -> Resp:
    """Body {"system": "okta"|...|"all", <fault fields>}: replaces that system's faults."""
    body = req.json()
    try:
        app.faults.set(str(body.get("system", "all")), body)
    except (FaultError, TypeError, ValueError) as exc:
        return error(400, str(exc))
    return Resp(200, app.faults.describe())


@router.add("DELETE", "/faults")
def clear_faults(app: App, req: Request) -> Resp:
    app.faults.clear()
    return Resp(204)


@router.add("PUT", "/token-ttl")
def token_ttl(app: App, req: Request) -> Resp:
    """{"seconds": n} shortens the lifetime of tokens issued from now on; null restores 3600."""
    seconds = req.json().get("seconds")
    if seconds is not None and (not isinstance(seconds, int) or seconds < 1):
        return error(400, "seconds must be a positive integer or null")
    app.state.token_ttl = seconds
    return Resp(200, {"seconds": seconds})


@router.add("POST", "/tokens/expire")
def expire_tokens(app: App, req: Request) -> Resp:
    """Expire every access token issued so far (to test 401 then refresh)."""
    with app.state.lock:
        for info in app.state.tokens.values():
            info["exp"] = time.time() - 1
    return Resp(200, {"expired": len(app.state.tokens)})
