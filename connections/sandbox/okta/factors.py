"""Okta factors: a user's enrolled factors, unenrolling one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox.data import iso
from connections.sandbox.okta.errors import not_found, okta_error
from connections.sandbox.okta.users import MANAGE, READ, user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
FACTOR_META = {
    "push": ("OKTA", "OKTA"),
    "token:software:totp": ("GOOGLE", "GOOGLE"),
    "sms": ("OKTA", "OKTA"),
    "webauthn": ("FIDO", "FIDO"),
}


def _factor_json(app: App, idx: int, k: int, kind: str, base: str) -> dict:
    fid = app.org.ids.okta_factor.make(idx, k)
    provider, vendor = FACTOR_META[kind]
    uid = app.org.ids.okta_user.make(idx)
    return {
        "id": fid,
        "factorType": kind,
        "provider": provider,
        "vendorName": vendor,
        "status": "ACTIVE",
        "created": iso(app.org.created(idx)),
        "lastUpdated": iso(app.org.created(idx)),
        "profile": {"credentialId": app.org.email[idx]},
        "_links": {
            "self": {
                "href": f"{base}/okta/api/v1/users/{uid}/factors/{fid}",
                "hints": {"allow": ["GET", "DELETE"]},
            }
        },
    }


@router.add("GET", "/users/{userId}/factors", READ, "user_get")
def list_factors(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    factors = app.state.person(idx).factors
    return Resp(
        200, [_factor_json(app, idx, k, t, req.base_url) for k, t in sorted(factors.items())]
    )


@router.add("DELETE", "/users/{userId}/factors/{factorId}", MANAGE, "user_write")
def delete_factor(app: App, req: Request) -> Resp:
    idx = user_or_404(app, req.params["userId"])
    if isinstance(idx, Resp):
        return idx
    found = app.org.ids.okta_factor.parse(req.params["factorId"], sub=True)
    person = app.state.person(idx)
    if not found or found[0] != idx or found[1] not in person.factors:
        return not_found(req.params["factorId"], "UserFactor")
    if person.okta_status == "DEPROVISIONED":
        return okta_error(
            400,
            "E0000001",
            "Api validation failed: factor",
            ["Cannot unenroll a factor of a deactivated user"],
        )
    del person.factors[found[1]]
    return Resp(204, applied=True)
