"""Okta Management API /api/v1: users, search, lifecycle and sessions."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.okta_search import SearchError, compile_expression
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp, okta_error

router = Router()
READ, MANAGE = ("okta.users.read",), ("okta.users.manage",)
TITLES = ("Engineer", "Analyst", "Manager", "Specialist", "Director", "Coordinator", "Consultant")


def find_user(app, key: str) -> int | None:
    """Resolve an Okta user by id, login or login shortname; None when absent or deleted."""
    idx = app.org.ids.okta_user.parse(key)
    if idx is None or idx >= app.org.n:
        idx = app.org.find(key) if "@" in key else app.org.find(f"{key}@{data.DOMAIN}")
    if idx is None or not app.state.okta_exists(idx):
        return None
    return idx


def user_not_found(key: str) -> Resp:
    return okta_error(404, "E0000007", f"Not found: Resource not found: {key} (User)")


def _times(app, idx: int) -> tuple[datetime, datetime, datetime]:
    created = app.org.created(idx)
    found = app.state.people.get(idx)
    if found:
        return created, found.status_changed, found.last_updated
    return created, created + timedelta(days=1), created + timedelta(days=2)


def user_json(app, idx: int, base: str) -> dict:
    """The Okta User object."""
    org = app.org
    uid = org.ids.okta_user.make(idx)
    status = app.state.okta_status(idx)
    created, changed, updated = _times(app, idx)
    first, last, email = org.first[idx], org.last[idx], org.email[idx]
    href = f"{base}/okta/api/v1/users/{uid}"
    return {
        "id": uid,
        "status": status,
        "created": iso(created),
        "activated": None if status == "STAGED" else iso(created),
        "statusChanged": iso(changed),
        "lastLogin": None if status in ("STAGED", "DEPROVISIONED") else iso(updated),
        "lastUpdated": iso(updated),
        "passwordChanged": None if status == "STAGED" else iso(created),
        "type": {"id": "oty1sandboxdefault697"},
        "profile": {
            "firstName": first,
            "lastName": last,
            "mobilePhone": None,
            "secondEmail": None,
            "login": email,
            "email": email,
            "displayName": f"{first} {last}",
            "department": data.DEPARTMENTS[org.dept[idx]],
            "title": TITLES[idx % len(TITLES)],
            "employeeNumber": str(100000 + idx),
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": _lifecycle_links(status, href),
    }


def _lifecycle_links(status: str, href: str) -> dict:
    links = {"self": {"href": href}}
    names = {
        "ACTIVE": ("suspend", "deactivate", "expirePassword", "resetFactors"),
        "SUSPENDED": ("unsuspend", "deactivate"),
        "LOCKED_OUT": ("unlock", "deactivate", "resetFactors"),
        "STAGED": ("activate", "deactivate"),
        "PASSWORD_EXPIRED": ("suspend", "deactivate", "resetFactors"),
        "DEPROVISIONED": ("activate",),
    }.get(status, ("deactivate",))
    for name in names:
        action = {"expirePassword": "expire_password", "resetFactors": "reset_factors"}.get(
            name, name
        )
        links[name] = {"href": f"{href}/lifecycle/{action}", "hints": {"allow": ["POST"]}}
    return links


def _getter(app, idx: int):
    org = app.org

    def get(field: str):
        if field == "status":
            return app.state.okta_status(idx)
        if field == "id":
            return org.ids.okta_user.make(idx)
        if field in ("profile.login", "profile.email"):
            return org.email[idx]
        if field == "profile.firstName":
            return org.first[idx]
        if field == "profile.lastName":
            return org.last[idx]
        if field == "profile.department":
            return data.DEPARTMENTS[org.dept[idx]]
        if field in ("lastUpdated", "created"):
            return iso(_times(app, idx)[2 if field == "lastUpdated" else 0])
        return None

    return get


def _limit(req: Request, default: int) -> int | Resp:
    raw = req.arg("limit")
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        return okta_error(
            400, "E0000001", "Api validation failed: limit", ["limit: must be a positive integer"]
        )
    return min(int(raw), 200)


def _predicate(req: Request):
    """(predicate, paginate, include_deprovisioned) or an error Resp."""
    search, filt, q = req.arg("search"), req.arg("filter"), req.arg("q")
    try:
        if search is not None:
            return compile_expression(search, "search"), True, True
        if filt is not None:
            return compile_expression(filt, "filter"), True, True
    except SearchError as exc:
        return okta_error(400, "E0000031", "Invalid search criteria.", [str(exc)])
    if q is not None:
        needle = q.lower()

        def starts(get) -> bool:
            return any(
                str(get(f)).lower().startswith(needle)
                for f in ("profile.firstName", "profile.lastName", "profile.email")
            )

        return starts, False, False
    return (lambda get: True), True, False


@router.add("GET", "/users", READ, "users_list")
def list_users(app, req: Request) -> Resp:
    """List/search users with q, search, filter, limit and the after cursor."""
    found = _predicate(req)
    if isinstance(found, Resp):
        return found
    pred, paginate, include_gone = found
    limit = _limit(req, 200 if paginate else 10)
    if isinstance(limit, Resp):
        return limit
    start = 0
    after = req.arg("after")
    if after and paginate:
        cursor = app.org.ids.okta_user.parse(after)
        if cursor is None or cursor >= app.org.n:
            return okta_error(
                400, "E0000001", "Api validation failed: after", ["after: invalid cursor"]
            )
        start = cursor + 1
    hits, more = _collect(app, pred, start, limit, include_gone)
    base = req.base_url
    body = [user_json(app, i, base) for i in hits]
    return Resp(200, body, {"Link": _links(app, req, hits, more and paginate)})


def _collect(app, pred, start: int, limit: int, include_gone: bool) -> tuple[list[int], bool]:
    hits: list[int] = []
    for idx in range(start, app.org.n):
        if not app.state.okta_exists(idx):
            continue
        if not include_gone and app.state.okta_status(idx) == "DEPROVISIONED":
            continue
        if pred(_getter(app, idx)):
            if len(hits) == limit:
                return hits, True
            hits.append(idx)
    return hits, False


def _links(app, req: Request, hits: list[int], more: bool) -> str:
    base = f"{req.base_url}/okta/api/v1/users"
    args = {k: v[0] for k, v in req.query.items() if k != "after"}
    links = [
        f'<{base}?{urlencode(args, quote_via=quote)}>; rel="self"'
        if args
        else f'<{base}>; rel="self"'
    ]
    if more and hits:
        args["after"] = app.org.ids.okta_user.make(hits[-1])
        links.append(f'<{base}?{urlencode(args, quote_via=quote)}>; rel="next"')
    return ", ".join(links)


@router.add("GET", "/users/{id}", READ, "user_get")
def get_user(app, req: Request) -> Resp:
    idx = find_user(app, req.params["id"])
    if idx is None:
        return user_not_found(req.params["id"])
    body = user_json(app, idx, req.base_url)
    return Resp(
        200, body, {"ETag": f'W/"{zlib.crc32((body["lastUpdated"] + body["status"]).encode())}"'}
    )


def _touch(app, idx: int, status: str | None = None):
    person = app.state.person(idx)
    now = datetime.now(UTC)
    if status:
        person.okta_status = status
        person.status_changed = now
    person.last_updated = now
    return person


def _lifecycle_target(app, req: Request):
    idx = find_user(app, req.params["id"])
    return idx, (user_not_found(req.params["id"]) if idx is None else None)


@router.add("POST", "/users/{id}/lifecycle/suspend", MANAGE, "user_write")
def suspend(app, req: Request) -> Resp:
    idx, missing = _lifecycle_target(app, req)
    if missing:
        return missing
    if app.state.okta_status(idx) != "ACTIVE":
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: suspendUser",
            ["Cannot suspend a user that is not active"],
        )
    _touch(app, idx, "SUSPENDED")
    return Resp(200, {}, applied=True)


@router.add("POST", "/users/{id}/lifecycle/unsuspend", MANAGE, "user_write")
def unsuspend(app, req: Request) -> Resp:
    idx, missing = _lifecycle_target(app, req)
    if missing:
        return missing
    if app.state.okta_status(idx) != "SUSPENDED":
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: unsuspendUser",
            ["Cannot unsuspend a user that is not suspended"],
        )
    _touch(app, idx, "ACTIVE")
    return Resp(200, {}, applied=True)


def _deprovision(app, idx: int) -> None:
    person = _touch(app, idx, "DEPROVISIONED")
    person.sessions = 0
    person.client_tokens = {}
    person.apps = []
    person.groups = set()


@router.add("POST", "/users/{id}/lifecycle/deactivate", MANAGE, "user_write")
def deactivate(app, req: Request) -> Resp:
    idx, missing = _lifecycle_target(app, req)
    if missing:
        return missing
    if app.state.okta_status(idx) == "DEPROVISIONED":
        return user_not_found(req.params["id"])
    _deprovision(app, idx)
    return Resp(200, {}, applied=True)


@router.add("DELETE", "/users/{id}", MANAGE, "user_write")
def delete_user(app, req: Request) -> Resp:
    """First call deactivates, a second deletes (as Okta does)."""
    idx, missing = _lifecycle_target(app, req)
    if missing:
        return missing
    if app.state.okta_status(idx) != "DEPROVISIONED":
        _deprovision(app, idx)
    else:
        _touch(app, idx).okta_deleted = True
    return Resp(204, applied=True)


@router.add("POST", "/users/{id}/lifecycle/reset_factors", MANAGE, "user_write")
def reset_factors(app, req: Request) -> Resp:
    idx, missing = _lifecycle_target(app, req)
    if missing:
        return missing
    person = _touch(app, idx)
    changed = bool(person.factors)
    person.factors = {}
    return Resp(200, {}, applied=changed)


@router.add("POST", "/users/{id}/lifecycle/expire_password", MANAGE, "user_write")
def expire_password(app, req: Request) -> Resp:
    idx, missing = _lifecycle_target(app, req)
    if missing:
        return missing
    if app.state.okta_status(idx) not in ("ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT"):
        return okta_error(
            403, "E0000038", "This operation is not allowed in the user's current status."
        )
    _touch(app, idx, "PASSWORD_EXPIRED")
    return Resp(200, user_json(app, idx, req.base_url), applied=True)


@router.add("DELETE", "/users/{id}/sessions", MANAGE, "user_write")
def clear_sessions(app, req: Request) -> Resp:
    """Clear sessions; oauthTokens=true also revokes tokens; forgetDevices defaults to true."""
    idx, missing = _lifecycle_target(app, req)
    if missing:
        return missing
    person = _touch(app, idx)
    person.sessions = 0
    if (req.arg("oauthTokens") or "false").lower() == "true":
        person.client_tokens = dict.fromkeys(person.client_tokens, 0)
    if (req.arg("forgetDevices") or "true").lower() == "true":
        person.devices_forgotten = True
    return Resp(204, applied=True)
