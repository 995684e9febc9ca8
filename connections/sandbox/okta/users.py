"""Okta /api/v1/users: the User object, listing with q/search/filter and paging, get one user."""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.okta.errors import not_found, okta_error
from connections.sandbox.okta.search import Getter, Predicate, SearchError, compile_expression
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
READ, MANAGE = ("okta.users.read",), ("okta.users.manage",)  # scopes of the user routes
TITLES = ("Engineer", "Analyst", "Manager", "Specialist", "Director", "Coordinator", "Consultant")


def find_user(app: App, key: str) -> int | None:
    """Resolve an Okta user by id, login or login shortname; None when absent or deleted."""
    idx = app.org.ids.okta_user.parse(key)
    if idx is None or idx >= app.org.n:
        idx = app.org.find(key) if "@" in key else app.org.find(f"{key}@{data.DOMAIN}")
    if idx is None or not app.state.okta_exists(idx):
        return None
    return idx


def user_not_found(key: str) -> Resp:
    return not_found(key, "User")


def user_or_404(app: App, key: str) -> int | Resp:
    """The user's index, or Okta's 404 when there is no such (undeleted) user."""
    idx = find_user(app, key)
    return user_not_found(key) if idx is None else idx


def _times(app: App, idx: int) -> tuple[datetime, datetime, datetime]:
    created = app.org.created(idx)
    found = app.state.people.get(idx)
    if found:
        return created, found.status_changed, found.last_updated
    return created, created + timedelta(days=1), created + timedelta(days=2)


def user_json(app: App, idx: int, base: str) -> dict:
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
            # Okta's base profile has manager and managerId; everyone reports to person 0's
            # team lead here, so the person page has a manager to show.
            "manager": f"{org.first[_manager(idx)]} {org.last[_manager(idx)]}",
            "managerId": org.ids.okta_user.make(_manager(idx)),
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": _lifecycle_links(status, href),
    }


def _manager(idx: int) -> int:
    """A stable manager for each person (index 0, the admin, manages the first ten)."""
    return idx // 10 if idx >= 10 else 0


def _lifecycle_links(status: str, href: str) -> dict:
    links: dict[str, dict] = {"self": {"href": href}}
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


def _getter(app: App, idx: int) -> Getter:
    org = app.org

    def get(field: str) -> object:
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


def _predicate(req: Request) -> tuple[Predicate, bool, bool] | Resp:
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

        def starts(get: Getter) -> bool:
            return any(
                str(get(f)).lower().startswith(needle)
                for f in ("profile.firstName", "profile.lastName", "profile.email")
            )

        return starts, False, False
    return (lambda get: True), True, False


_EQ = r'profile\.(?:login|email)\s+(?i:eq)\s+"((?:[^"\\]|\\.)*)"'
_EQ_ONLY = re.compile(rf"\s*{_EQ}(?:\s+(?i:or)\s+{_EQ})*\s*")


def _exact(app: App, search: str | None) -> list[int] | None:
    """For `profile.login eq "a" or profile.email eq "b" …` (a bulk lookup), the matching
    people from the email index instead of a scan of everyone; None for any other expression.
    The answer is the one the scan would give (logins are the emails here)."""
    if search is None or len(search) > 20_000 or not _EQ_ONLY.fullmatch(search):
        return None
    found = (app.org.find(re.sub(r"\\(.)", r"\1", m.group(1))) for m in re.finditer(_EQ, search))
    return sorted({i for i in found if i is not None and app.state.okta_exists(i)})


@router.add("GET", "/users", READ, "users_list")
def list_users(app: App, req: Request) -> Resp:
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
    exact = _exact(app, req.arg("search"))
    if exact is not None:
        after_start = [i for i in exact if i >= start]
        hits, more = after_start[:limit], len(after_start) > limit
    else:
        hits, more = _collect(app, pred, start, limit, include_gone)
    base = req.base_url
    body = [user_json(app, i, base) for i in hits]
    return Resp(200, body, {"Link": _links(app, req, hits, more and paginate)})


def _collect(
    app: App, pred: Predicate, start: int, limit: int, include_gone: bool
) -> tuple[list[int], bool]:
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


def _links(app: App, req: Request, hits: list[int], more: bool) -> str:
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
def get_user(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    body = user_json(app, idx, req.base_url)
    return Resp(
        200, body, {"ETag": f'W/"{zlib.crc32((body["lastUpdated"] + body["status"]).encode())}"'}
    )
