"""What the control API shows and changes of Okta: a person's Okta state, the groups, adding a member."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.control import error, person_view
from connections.sandbox.data import iso
from connections.sandbox.okta import events, oidc
from connections.sandbox.okta.groups import find_group
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App
    from connections.sandbox.state import PersonState

router = Router()  # mounted under /_sandbox/


def okta_view(app: App, idx: int, p: PersonState) -> dict | None:
    """The person's Okta user, sessions, grants, factors, groups, apps and devices."""
    org = app.org
    if not app.state.okta_exists(idx):
        return None
    return {
        "id": org.ids.okta_user.make(idx),
        "status": p.okta_status,
        "sessions": p.sessions,
        "grants": len(p.grants),
        "client_tokens": sum(p.client_tokens.values()),
        "factors": sorted(p.factors.values()),
        "groups": [data.GROUPS[g][0] for g in sorted(p.groups)],
        "apps": [data.APPS[a][1] for a in p.apps],
        "group_apps": [data.APPS[a][1] for a, g in sorted(p.group_apps.items()) if g in p.groups],
        "devices": {org.ids.okta_device.make(idx, k): s for k, s in sorted(p.okta_devices.items())},
        "devices_forgotten": p.devices_forgotten,
        "last_updated": iso(p.last_updated),
    }


@router.add("GET", "/okta/groups")
def groups(app: App, req: Request) -> Resp:
    return Resp(
        200,
        [
            {"id": app.org.ids.okta_group.make(g), "name": n, "type": t}
            for g, (n, t) in enumerate(data.GROUPS)
        ],
    )


@router.add("POST", "/okta/groups/{group}/members")
def add_member(app: App, req: Request) -> Resp:
    """{"email": ...}: put a person into an Okta group (by group id or name)."""
    g = find_group(app, req.params["group"])
    idx = app.org.find(str(req.json().get("email", "")))
    if g is None or idx is None:
        return error(404, "unknown group or person")
    if g not in app.state.person(idx).groups:
        app.state.person(idx).groups.add(g)
        group = (app.org.ids.okta_group.make(g), data.GROUPS[g][0])
        events.emit(app, "group.user_membership.add", idx, group=group)
    return Resp(200, person_view(app, idx))


@router.add("POST", "/okta/people/{email}/email-verified")
def email_verified(app: App, req: Request) -> Resp:
    """{"verified": false}: what Okta sign-in says in the person's email_verified claim."""
    idx = app.org.find(req.params["email"])
    if idx is None:
        return error(404, "unknown person")
    verified = bool(req.json().get("verified", True))
    app.state.person(idx).okta_email_verified = verified
    return Resp(200, {"email": app.org.email[idx], "email_verified": verified})


@router.add("GET", "/okta/sign-in-app")
def sign_in_app(app: App, req: Request) -> Resp:
    """The OIDC web app "Sign in with Okta" uses: the portal's OKTA_OIDC_* settings."""
    client_id, secret = oidc.sign_in_app(app.keys.creds)
    return Resp(
        200,
        {
            "OKTA_OIDC_ORG_URL": f"{req.base_url}/okta",
            "OKTA_OIDC_CLIENT_ID": client_id,
            "OKTA_OIDC_CLIENT_SECRET": secret,
            "note": "the portal wants an https org URL: put the sandbox behind TLS to try it by hand",
        },
    )
