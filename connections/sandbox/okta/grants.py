"""Okta OAuth grants and clients: a user's grants and the OAuth clients holding their tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.data import iso
from connections.sandbox.okta.errors import not_found
from connections.sandbox.okta.users import MANAGE, READ, user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()


def _grant_json(app: App, idx: int, k: int, client: int, base: str) -> dict:
    gid = app.org.ids.okta_grant.make(idx, k)
    client_id = app.org.ids.okta_app.make(data.OAUTH_CLIENTS[client][1])
    uid = app.org.ids.okta_user.make(idx)
    return {
        "id": gid,
        "status": "ACTIVE",
        "created": iso(app.org.created(idx)),
        "lastUpdated": iso(app.org.created(idx)),
        "issuer": f"{base}/okta/oauth2/default",
        "clientId": client_id,
        "userId": uid,
        "scopeId": "scpCmCCV1DpxVkCaye2X",
        "source": "END_USER",
        "createdBy": {"id": uid, "type": "User"},
        "_links": {"self": {"href": f"{base}/okta/api/v1/users/{uid}/grants/{gid}"}},
    }


@router.add("GET", "/users/{userId}/grants", READ, "user_get")
def list_grants(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    grants = sorted(app.state.person(idx).grants.items())
    return Resp(200, [_grant_json(app, idx, k, c, req.base_url) for k, c in grants])


@router.add("DELETE", "/users/{userId}/grants", MANAGE, "user_write")
def revoke_grants(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    applied = bool(person.grants)
    person.grants = {}
    return Resp(204, applied=applied)


def _client_number(app: App, client_id: str) -> int | None:
    a = app.org.ids.okta_app.parse(client_id)
    numbers = {app_no: i for i, (_, app_no) in enumerate(data.OAUTH_CLIENTS)}
    return None if a is None else numbers.get(a)


@router.add("GET", "/users/{userId}/clients", READ, "user_get")
def list_clients(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    person = app.state.person(idx)
    clients = sorted(set(person.grants.values()) | set(person.client_tokens))
    uid = app.org.ids.okta_user.make(idx)
    out = []
    for c in clients:
        cid = app.org.ids.okta_app.make(data.OAUTH_CLIENTS[c][1])
        links = {
            "self": {"href": f"{req.base_url}/okta/oauth2/v1/clients/{cid}"},
            "tokens": {"href": f"{req.base_url}/okta/api/v1/users/{uid}/clients/{cid}/tokens"},
            "grants": {"href": f"{req.base_url}/okta/api/v1/users/{uid}/clients/{cid}/grants"},
        }
        out.append(
            {
                "client_id": cid,
                "client_name": data.OAUTH_CLIENTS[c][0],
                "client_uri": f"https://{data.OAUTH_CLIENTS[c][0].lower().replace(' ', '')}.acme.example",
                "logo_uri": f"{req.base_url}/okta/assets/img/logos/oauth.png",
                "_links": links,
            }
        )
    return Resp(200, out)


def _client_target(app: App, req: Request) -> tuple[int, int] | Resp:
    """(user index, client number), or Okta's 404 for the user or the client."""
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    c = _client_number(app, req.params["clientId"])
    if c is None:
        return not_found(req.params["clientId"], "Client")
    return idx, c


@router.add("DELETE", "/users/{userId}/clients/{clientId}/tokens", MANAGE, "user_write")
def revoke_client_tokens(app: App, req: Request) -> Resp:
    target = _client_target(app, req)
    if isinstance(target, Resp):
        return target
    idx, c = target
    person = app.state.person(idx)
    applied = person.client_tokens.get(c, 0) > 0
    if c in person.client_tokens:
        person.client_tokens[c] = 0
    return Resp(204, applied=applied)


@router.add("DELETE", "/users/{userId}/clients/{clientId}/grants", MANAGE, "user_write")
def revoke_client_grants(app: App, req: Request) -> Resp:
    target = _client_target(app, req)
    if isinstance(target, Resp):
        return target
    idx, c = target
    person = app.state.person(idx)
    before = len(person.grants)
    person.grants = {k: v for k, v in person.grants.items() if v != c}
    return Resp(204, applied=len(person.grants) != before)
