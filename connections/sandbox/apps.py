"""What each system's app registration is allowed: granted scopes, Okta's DPoP switch, Entra roles.

A real org refuses what the app was not granted (Okta `invalid_scope`, Google `unauthorized_client`,
Graph 403 `Authorization_RequestDenied`). These settings say what the sandbox's apps were granted;
the control API (`GET /_sandbox/apps`, `PUT /_sandbox/apps/{system}`) changes them and a reset
restores them (Okta's DPoP switch to the `--okta-dpop` start-up choice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

GOOGLE_PREFIX = "https://www.googleapis.com/auth/admin.directory."
GOOGLE_SCOPES = [
    GOOGLE_PREFIX + s
    for s in (
        "user",
        "user.readonly",
        "user.security",
        "device.mobile",
        "device.mobile.action",
        "device.mobile.readonly",
    )
]
GRAPH_ROLES = [
    "User.ReadWrite.All",
    "User.RevokeSessions.All",
    "Device.ReadWrite.All",
    "Directory.Read.All",
]
# Entra directory roles that may change sensitive properties of a privileged person (CONTRACTS §4.1).
PRIVILEGED_ROLES = ("Global Administrator", "Privileged Authentication Administrator")
ENTRA_ROLES = (*PRIVILEGED_ROLES, "User Administrator", "Authentication Administrator")

router = Router()  # mounted under /_sandbox/


def defaults(creds: dict, okta_dpop: bool) -> dict[str, dict[str, Any]]:
    """The apps as the sandbox starts: every scope in the credentials, no privileged Entra role."""
    return {
        "okta": {"dpop": okta_dpop, "scopes": list(creds["okta"]["scopes"])},
        "google": {"scopes": list(GOOGLE_SCOPES)},
        "graph": {"roles": list(GRAPH_ROLES), "directory_role": "User Administrator"},
    }


def _check(system: str, body: dict) -> str | None:
    """What is wrong with a PUT body, or None."""
    known = {"okta": {"dpop", "scopes"}, "google": {"scopes"}, "graph": {"roles", "directory_role"}}
    unknown = set(body) - known[system]
    if unknown:
        return f"unknown field(s) for {system}: {', '.join(sorted(unknown))}"
    for name in ("scopes", "roles"):
        value = body.get(name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return f"{name} must be a list of strings"
    if "dpop" in body and not isinstance(body["dpop"], bool):
        return "dpop must be true or false"
    role = body.get("directory_role", "User Administrator")
    if role is not None and role not in ENTRA_ROLES:
        return f"directory_role must be null or one of: {', '.join(ENTRA_ROLES)}"
    return None


@router.add("GET", "/apps")
def get_apps(app: App, req: Request) -> Resp:
    with app.state.lock:
        return Resp(200, {k: dict(v) for k, v in app.state.apps.items()})


@router.add("PUT", "/apps/{system}")
def put_app(app: App, req: Request) -> Resp:
    """Change what one app was granted, e.g. {"scopes": ["okta.users.read"]} or {"dpop": false}."""
    system = req.params["system"]
    if system not in app.state.apps:
        return Resp(404, {"error": f"no app settings for {system!r} (okta, google, graph)"})
    body = req.json()
    problem = _check(system, body)
    if problem:
        return Resp(400, {"error": problem})
    with app.state.lock:
        app.state.apps[system].update(body)
        return Resp(200, dict(app.state.apps[system]))
