"""The /_sandbox/ control API: health, people, reset, effect log, faults, token TTL, group membership."""

from __future__ import annotations

import time

from connections.sandbox import data
from connections.sandbox.data import iso, iso_seconds
from connections.sandbox.faults import FaultError
from connections.sandbox.okta_more import find_group
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

router = Router()


def _error(status: int, message: str) -> Resp:
    return Resp(status, {"error": message})


def person_view(app, idx: int) -> dict:
    """One person's state in every system (None for a system where they have no account)."""
    org, st = app.org, app.state
    p = st.person(idx)
    okta = None
    if st.okta_exists(idx):
        okta = {
            "id": org.ids.okta_user.make(idx),
            "status": p.okta_status,
            "sessions": p.sessions,
            "grants": len(p.grants),
            "client_tokens": sum(p.client_tokens.values()),
            "factors": sorted(p.factors.values()),
            "groups": [data.GROUPS[g][0] for g in sorted(p.groups)],
            "apps": [data.APPS[a][1] for a in p.apps],
            "devices": {
                org.ids.okta_device.make(idx, k): s for k, s in sorted(p.okta_devices.items())
            },
            "devices_forgotten": p.devices_forgotten,
            "last_updated": iso(p.last_updated),
        }
    return {
        "email": org.email[idx],
        "name": f"{org.first[idx]} {org.last[idx]}",
        "department": data.DEPARTMENTS[org.dept[idx]],
        "okta": okta,
        "google": _google_view(app, idx, p),
        "zoom": {
            "id": org.ids.zoom_user.make(idx),
            "status": p.zoom_status,
            "sso_tokens": p.zoom_sso_tokens,
        }
        if org.has(idx, data.F_ZOOM)
        else None,
        "graph": _graph_view(app, idx, p),
    }


def _google_view(app, idx: int, p) -> dict | None:
    if not app.org.has(idx, data.F_GOOGLE):
        return None
    return {
        "id": app.org.ids.google_user.make(idx),
        "suspended": p.google_suspended,
        "signed_out_at": p.google_signed_out_at,
        "sign_outs": p.google_signouts,
        "tokens": [data.GOOGLE_CLIENTS[c][1] for c in sorted(p.google_tokens)],
        "asps": sorted(p.google_asps),
        "backup_codes_generation": p.backup_codes_generation,
        "mobile_devices": {
            app.org.ids.google_device.make(idx, k): s for k, s in sorted(p.mobile.items())
        },
        "is_admin": app.org.has(idx, data.F_GADMIN),
    }


def _graph_view(app, idx: int, p) -> dict | None:
    if app.org.has(idx, data.F_NOGRAPH):
        return None
    return {
        "id": app.org.ids.graph_user.make(idx),
        "accountEnabled": p.graph_enabled,
        "onPremisesSyncEnabled": app.org.has(idx, data.F_HYBRID),
        "signInSessionsValidFromDateTime": iso_seconds(p.graph_sessions_from),
        "devices": {
            app.org.ids.graph_device.make(idx, k): e for k, e in sorted(p.graph_devices.items())
        },
    }


@router.add("GET", "/health")
def health(app, req: Request) -> Resp:
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
def personas(app, req: Request) -> Resp:
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
def person(app, req: Request) -> Resp:
    idx = app.org.find(req.params["email"])
    if idx is None:
        return _error(404, f"no person {req.params['email']}")
    return Resp(200, person_view(app, idx))


@router.add("POST", "/reset")
def reset(app, req: Request) -> Resp:
    """Back to the seed: people, faults, effect log, rate counters, token TTL."""
    app.reset()
    return Resp(200, {"status": "reset"})


@router.add("GET", "/effects")
def effects(app, req: Request) -> Resp:
    since = req.arg("since") or "0"
    if not since.isdigit():
        return _error(400, "since must be an integer")
    return Resp(
        200,
        {
            "effects": app.state.effects_since(int(since), req.arg("system")),
            "last_seq": app.state.seq,
        },
    )


@router.add("DELETE", "/effects")
def clear_effects(app, req: Request) -> Resp:
    app.state.clear_effects()
    return Resp(204)


@router.add("GET", "/faults")
def get_faults(app, req: Request) -> Resp:
    return Resp(200, app.faults.describe())


@router.add("PUT", "/faults")
def put_faults(app, req: Request) -> Resp:
    """Body {"system": "okta"|...|"all", <fault fields>}: replaces that system's faults."""
    body = req.json()
    try:
        app.faults.set(str(body.get("system", "all")), body)
    except (FaultError, TypeError, ValueError) as exc:
        return _error(400, str(exc))
    return Resp(200, app.faults.describe())


@router.add("DELETE", "/faults")
def clear_faults(app, req: Request) -> Resp:
    app.faults.clear()
    return Resp(204)


@router.add("PUT", "/token-ttl")
def token_ttl(app, req: Request) -> Resp:
    """{"seconds": n} shortens the lifetime of tokens issued from now on; null restores 3600."""
    seconds = req.json().get("seconds")
    if seconds is not None and (not isinstance(seconds, int) or seconds < 1):
        return _error(400, "seconds must be a positive integer or null")
    app.state.token_ttl = seconds
    return Resp(200, {"seconds": seconds})


@router.add("POST", "/tokens/expire")
def expire_tokens(app, req: Request) -> Resp:
    """Expire every access token issued so far (to test 401 then refresh)."""
    with app.state.lock:
        for info in app.state.tokens.values():
            info["exp"] = time.time() - 1
    return Resp(200, {"expired": len(app.state.tokens)})


@router.add("GET", "/okta/groups")
def groups(app, req: Request) -> Resp:
    return Resp(
        200,
        [
            {"id": app.org.ids.okta_group.make(g), "name": n, "type": t}
            for g, (n, t) in enumerate(data.GROUPS)
        ],
    )


@router.add("POST", "/okta/groups/{group}/members")
def add_member(app, req: Request) -> Resp:
    """{"email": ...}: put a person into an Okta group (by group id or name)."""
    g = find_group(app, req.params["group"])
    idx = app.org.find(str(req.json().get("email", "")))
    if g is None or idx is None:
        return _error(404, "unknown group or person")
    app.state.person(idx).groups.add(g)
    return Resp(200, person_view(app, idx))
