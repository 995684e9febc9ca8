"""The simulated Google Workspace: Admin SDK Directory API under /google, service-account token endpoint."""

from __future__ import annotations

from connections.sandbox.google import control, devices, errors, listing, security, token, users
from connections.sandbox.provider import Provider, at_path
from connections.sandbox.routing import Router


def describe(base: str, creds: dict) -> str:
    return (
        f"  Google  API {base}/google/admin/directory/v1  (token {base}/google{token.TOKEN_PATH})"
    )


PROVIDER = Provider(
    system="google",
    api_prefix="/admin/directory/v1",
    router=Router.joined(users.router, listing.router, security.router, devices.router),
    token_params=at_path(token.TOKEN_PATH),
    token=token.token_endpoint,
    authenticate=token.authenticate,
    errors=errors.SHAPES,
    rate_limits={"directory": 2400},
    person_view=control.google_view,
    describe=describe,
    load_keys=token.load_keys,
)
