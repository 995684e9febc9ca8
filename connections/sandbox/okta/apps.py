"""Okta app links: a user's assigned apps, unassigning an app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.okta.errors import not_found
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


@router.add("GET", "/users/{id}/appLinks", READ, "user_get")
def app_links(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["id"])
    if isinstance(idx, Resp):
        return idx
    return Resp(200, [_app_link(app, idx, a, req.base_url) for a in app.state.person(idx).apps])


@router.add("DELETE", "/apps/{appId}/users/{userId}", ("okta.apps.manage",), "apps")
def unassign_app(app: App, req: Request) -> Resp:
    a = app.org.ids.okta_app.parse(req.params["appId"])
    if a is None or a >= len(data.APPS):
        return not_found(req.params["appId"], "App")
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
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
