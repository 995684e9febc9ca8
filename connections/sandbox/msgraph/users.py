"""Microsoft Graph /v1.0/users: get with $select, PATCH accountEnabled, revokeSignInSessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso_seconds
from connections.sandbox.msgraph.errors import bad_request, not_found
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
DEFAULT_FIELDS = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
ALL_FIELDS = DEFAULT_FIELDS + (
    "accountEnabled",
    "onPremisesSyncEnabled",
    "onPremisesImmutableId",
    "signInSessionsValidFromDateTime",
    "createdDateTime",
    "employeeId",
    "userType",
    "department",
)
HYBRID_MESSAGE = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."


def find_user(app: App, key: str) -> int | None:
    idx = app.org.find(key) if "@" in key else app.org.ids.graph_user.parse(key)
    if idx is None or idx >= app.org.n or app.org.has(idx, data.F_NOGRAPH):
        return None
    return idx


def user_or_404(app: App, req: Request) -> int | Resp:
    """The index of the {userId} user, or Graph's 404."""
    key = req.params["userId"]
    idx = find_user(app, key)
    return not_found(key) if idx is None else idx


def all_fields(app: App, idx: int) -> dict:
    org, person = app.org, app.state.person(idx)
    hybrid = org.has(idx, data.F_HYBRID)
    return {
        "businessPhones": [],
        "displayName": f"{org.first[idx]} {org.last[idx]}",
        "givenName": org.first[idx],
        "jobTitle": None,
        "mail": org.email[idx],
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": org.last[idx],
        "userPrincipalName": org.email[idx],
        "id": org.ids.graph_user.make(idx),
        "accountEnabled": person.graph_enabled,
        "onPremisesSyncEnabled": True if hybrid else None,
        "onPremisesImmutableId": org.ids.graph_user.make(idx)[:22] if hybrid else None,
        "signInSessionsValidFromDateTime": iso_seconds(person.graph_sessions_from),
        "createdDateTime": iso_seconds(org.created(idx)),
        "employeeId": str(100000 + idx),
        "userType": "Member",
        "department": data.DEPARTMENTS[org.dept[idx]],
    }


@router.add("GET", "/users/{userId}", (), "users")
def get_user(app: App, req: Request) -> Resp:
    """Default projection unless $select names the properties (accountEnabled only when selected)."""
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    select = [s.strip() for s in (req.arg("$select") or "").split(",") if s.strip()]
    unknown = [s for s in select if s not in ALL_FIELDS]
    if unknown:
        return bad_request(
            f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.user'.",
        )
    fields = all_fields(app, idx)
    chosen = select or DEFAULT_FIELDS
    context = (
        f"{req.base_url}/graph/v1.0/$metadata#users"
        + (f"({','.join(select)})" if select else "")
        + "/$entity"
    )
    return Resp(200, {"@odata.context": context, **{k: fields[k] for k in chosen}})


@router.add("PATCH", "/users/{userId}", (), "users")
def update_user(app: App, req: Request) -> Resp:
    """PATCH accountEnabled; 204, or 400 for a user mastered on-premises."""
    body = req.json()
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    if "accountEnabled" not in body:
        return Resp(204)
    if not isinstance(body["accountEnabled"], bool):
        return bad_request(
            "Invalid value specified for property 'accountEnabled' of resource 'User'.",
        )
    from connections.sandbox.msgraph.roles import sensitive_change_denied

    refused = sensitive_change_denied(app, req, idx)
    if refused:
        return refused
    if app.org.has(idx, data.F_HYBRID):
        return bad_request(HYBRID_MESSAGE)
    person = app.state.person(idx)
    applied = person.graph_enabled != body["accountEnabled"]
    person.graph_enabled = body["accountEnabled"]
    return Resp(204, applied=applied)


@router.add("POST", "/users/{userId}/revokeSignInSessions", (), "users")
def revoke_sessions(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    now = datetime.now(UTC).replace(microsecond=0)
    person.graph_sessions_from = max(now, person.graph_sessions_from + timedelta(seconds=1))
    return Resp(
        200,
        {"@odata.context": f"{req.base_url}/graph/v1.0/$metadata#Edm.Boolean", "value": True},
        applied=True,
    )
