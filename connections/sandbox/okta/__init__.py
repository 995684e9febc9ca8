"""The simulated Okta org: Management API /api/v1 under /okta, org token endpoint, SSWS and OAuth
auth, and the org server as an OpenID Connect issuer for "Sign in with Okta"."""

from __future__ import annotations

from connections.sandbox.okta import (
    apps,
    control,
    devices,
    errors,
    factors,
    grants,
    groups,
    hooks,
    lifecycle,
    oidc,
    syslog,
    token,
    users,
)
from connections.sandbox.provider import Provider, Rate, at_path
from connections.sandbox.routing import Router
from connections.sandbox.web import Resp


def rate_headers(resp: Resp, rate: Rate) -> None:
    """Okta sends its rate-limit headers on every answer."""
    resp.headers.update(
        {
            "X-Rate-Limit-Limit": str(rate[0]),
            "X-Rate-Limit-Remaining": str(rate[1]),
            "X-Rate-Limit-Reset": str(rate[2]),
        }
    )


def describe(base: str, creds: dict) -> str:
    return (
        f"  Okta    org {base}/okta  (API {base}/okta/api/v1, token {base}/okta{token.TOKEN_PATH}; "
        "OIDC sign-in app: /_sandbox/okta/sign-in-app)"
    )


PROVIDER = Provider(
    system="okta",
    api_prefix="/api/v1",
    router=Router.joined(
        users.router,
        lifecycle.router,
        groups.router,
        apps.router,
        factors.router,
        grants.router,
        devices.router,
        hooks.router,  # event hooks and group assignment (issue 14)
        syslog.router,  # the System Log (issue 14)
    ),
    token_params=at_path(token.TOKEN_PATH),
    token=token.token_endpoint,
    authenticate=token.authenticate,
    errors=errors.SHAPES,
    rate_limits={
        "users_list": 600,
        "user_get": 2000,
        "user_write": 600,
        "groups": 500,
        "apps": 100,
        "devices": 500,
        "logs": 120,
    },
    person_view=control.okta_view,
    describe=describe,
    load_keys=token.load_keys,
    rate_headers=rate_headers,
    control=Router.joined(control.router, hooks.control),
    pages=oidc.router,
)
