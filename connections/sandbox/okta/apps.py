"""Okta app links: a user's assigned apps, unassigning an app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.okta.errors import not_found, okta_error
from connections.sandbox.okta.users import READ, user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def _app_link(app: App, idx: int, a: int, base: str) -> dict:
    name, label = data.APPS[a]
    app_id = app.org.ids.okta_app.make(a)
    return {
        "id": app_id,
        "appAssignmentId": "0ua" + app.org.ids.okta_user.make(idx)[3:17] + f"{a:03d}",
        "appInstanceId": app_id,
        "appName": name,
        "credentialsSetup": False,
        "hidden": False,
        "label": label,
        "linkUrl": f"{base}/okta/home/{name}/{app_id}/alnk{a}",
        "logoUrl": f"{base}/okta/assets/img/logos/{name}.png",
        "sortOrder": a,
    }


def _through_groups(person) -> list[int]:
    """Apps the person holds through a group they are still in (and not directly)."""
    return [
        a
        for a, g in sorted(person.group_apps.items())
        if g in person.groups and a not in person.apps
    ]


@router.add("GET", "/users/{id}/appLinks", READ, "user_get")
def app_links(app: App, req: Request) -> Resp:
    """Apps assigned directly and through groups, as Okta lists them."""
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    assigned = [*person.apps, *_through_groups(person)]
    return Resp(200, [_app_link(app, idx, a, req.base_url) for a in assigned])


@router.add("DELETE", "/apps/{appId}/users/{userId}", ("okta.apps.manage",), "apps")
def unassign_app(app: App, req: Request) -> Resp:
    a = app.org.ids.okta_app.parse(req.params["appId"])
    if a is None or a >= len(data.APPS):
        return not_found(req.params["appId"], "App")
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    if a not in person.apps and a in _through_groups(person):
        # Okta refuses while a group grants the app (observed: E0000046, CONTRACTS.md notes).
        return okta_error(
            403,
            "E0000046",
            "Deactivate application for user forbidden.",
            [
                "The application cannot be unassigned from the user while their group memberships "
                "grant them access"
            ],
        )
    if a not in person.apps:
        return not_found(req.params["userId"], "AppUser")
    person.apps = [x for x in person.apps if x != a]
    return Resp(204, applied=True)


# Issue 13: reinstate assigns again the apps an offboard unassigned.
@router.add("POST", "/apps/{appId}/users", ("okta.apps.manage",), "apps")
def assign_app(app: App, req: Request) -> Resp:
    """Assign an app to a user (body {"id": userId, "scope": "USER"}); answers the AppUser."""
    a = app.org.ids.okta_app.parse(req.params["appId"])
    if a is None or a >= len(data.APPS):
        return not_found(req.params["appId"], "App")
    user_id = str(req.json().get("id") or "")
    idx = user_or_404(app, user_id)
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    applied = a not in person.apps
    if applied:
        person.apps = sorted([*person.apps, a])
    uid = app.org.ids.okta_user.make(idx)
    when = iso(data.EPOCH)
    body = {
        "id": uid,
        "scope": "USER",
        "status": "PROVISIONED",
        "syncState": "DISABLED",
        "created": when,
        "lastUpdated": when,
        "statusChanged": when,
        "credentials": {"userName": app.org.email[idx]},
        "profile": {},
        "_links": {"app": {"href": f"{req.base_url}/okta/api/v1/apps/{req.params['appId']}"}},
    }
    return Resp(200, body, applied=applied)
