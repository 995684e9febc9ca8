"""Okta group memberships: a user's groups, a group's members (paged), removing a user from a group."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.okta import events
from connections.sandbox.okta.errors import not_found, okta_error
from connections.sandbox.okta.users import READ, user_json, user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def group_json(app: App, g: int, base: str) -> dict:
    name, kind = data.GROUPS[g]
    gid = app.org.ids.okta_group.make(g)
    profile = {"name": name, "description": f"{name} ({kind})"}
    when = iso(data.EPOCH)
    body = {
        "id": gid,
        "created": when,
        "lastUpdated": when,
        "lastMembershipUpdated": when,
        "objectClass": ["okta:user_group"]
        if kind != "APP_GROUP"
        else ["okta:windows_security_principal"],
        "type": kind,
        "profile": profile,
        "_links": {
            "self": {"href": f"{base}/okta/api/v1/groups/{gid}"},
            "users": {"href": f"{base}/okta/api/v1/groups/{gid}/users"},
        },
    }
    return body


def find_group(app: App, key: str) -> int | None:
    g = app.org.ids.okta_group.parse(key)
    if g is not None and g < len(data.GROUPS):
        return g
    names = {name.lower(): i for i, (name, _) in enumerate(data.GROUPS)}
    return names.get(key.lower())


@router.add("GET", "/users/{id}/groups", READ, "user_get")
def user_groups(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    groups = sorted(app.state.person(idx).groups)
    return Resp(200, [group_json(app, g, req.base_url) for g in groups])


def _membership(app: App, req: Request, verb: str) -> tuple[int, int] | Resp:
    """The (group, person) of a membership change, or Okta's 404/403: only OKTA_GROUP memberships
    can be changed; Everyone and app groups are refused."""
    g = app.org.ids.okta_group.parse(req.params["groupId"])
    if g is None or g >= len(data.GROUPS):
        return not_found(req.params["groupId"], "UserGroup")
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    if data.GROUPS[g][1] != "OKTA_GROUP":
        return okta_error(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
            [f"Cannot {verb} a {data.GROUPS[g][1]} group"],
        )
    return g, idx


@router.add("DELETE", "/groups/{groupId}/users/{userId}", ("okta.groups.manage",), "groups")
def remove_from_group(app: App, req: Request) -> Resp:
    """Only OKTA_GROUP memberships can be removed; Everyone and app groups are refused."""
    found = _membership(app, req, "remove users from")
    if isinstance(found, Resp):
        return found
    g, idx = found
    person = app.state.person(idx)
    applied = g in person.groups
    person.groups.discard(g)
    return Resp(204, applied=applied)


# Issue 13: reinstate adds the person back to the groups an offboard removed.
@router.add("PUT", "/groups/{groupId}/users/{userId}", ("okta.groups.manage",), "groups")
def add_to_group(app: App, req: Request) -> Resp:
    """Assign a user to an OKTA_GROUP (204 whether or not they were a member already)."""
    found = _membership(app, req, "add users to")
    if isinstance(found, Resp):
        return found
    g, idx = found
    person = app.state.person(idx)
    applied = g not in person.groups
    person.groups.add(g)
    if applied:  # the System Log and event hooks hear of it (issue 14)
        group = (app.org.ids.okta_group.make(g), data.GROUPS[g][0])
        events.emit(app, "group.user_membership.add", idx, auth=req.auth, group=group)
    return Resp(204, applied=applied)


@router.add("GET", "/groups/{groupId}/users", ("okta.groups.read", "okta.groups.manage"), "groups")
def group_users(app: App, req: Request) -> Resp:
    """`listGroupUsers`: the members in user-id order, `limit` (default 1000) and `after`."""
    g = app.org.ids.okta_group.parse(req.params["groupId"])
    if g is None or g >= len(data.GROUPS):
        return not_found(req.params["groupId"], "UserGroup")
    raw = req.arg("limit") or "1000"
    if not raw.isdigit() or int(raw) < 1:
        return okta_error(400, "E0000001", "Api validation failed: limit", ["limit: invalid"])
    limit, start = min(int(raw), 1000), 0
    after = req.arg("after")
    if after:
        cursor = app.org.ids.okta_user.parse(after)
        if cursor is None or cursor >= app.org.n:
            return okta_error(400, "E0000001", "Api validation failed: after", ["after: invalid"])
        start = cursor + 1
    hits: list[int] = []
    more = False
    for idx in range(start, app.org.n):
        if app.state.okta_exists(idx) and g in app.state.okta_groups(idx):
            if len(hits) == limit:
                more = True
                break
            hits.append(idx)
    base = f"{req.base_url}/okta/api/v1/groups/{req.params['groupId']}/users"
    links = [f'<{base}>; rel="self"']
    if more:
        args = {"limit": str(limit), "after": app.org.ids.okta_user.make(hits[-1])}
        links.append(f'<{base}?{urlencode(args, quote_via=quote)}>; rel="next"')
    body = [user_json(app, i, req.base_url) for i in hits]
    return Resp(200, body, {"Link": ", ".join(links)})


@router.add("GET", "/groups", ("okta.groups.read",), "groups_list")
def list_groups(app: App, req: Request) -> Resp:
    """listGroups with `q` (name starts with, case-insensitive) and `limit` (issue 16: the policy
    pages' group picker). The sandbox's few groups fit one page."""
    needle = (req.arg("q") or "").lower()
    raw = req.arg("limit") or "10000"
    if not raw.isdigit() or int(raw) < 1:
        return okta_error(400, "E0000001", "Api validation failed: limit", ["limit: invalid"])
    found = [g for g, (name, _) in enumerate(data.GROUPS) if name.lower().startswith(needle)]
    return Resp(200, [group_json(app, g, req.base_url) for g in found[: int(raw)]])
