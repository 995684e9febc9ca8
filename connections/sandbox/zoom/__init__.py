"""The simulated Zoom account: API /v2 under /zoom, Server-to-Server OAuth token endpoint."""

from __future__ import annotations

from connections.sandbox.provider import Provider, Rate, at_path
from connections.sandbox.web import Resp
from connections.sandbox.zoom import control, errors, token, users


def rate_headers(resp: Resp, rate: Rate) -> None:
    """Zoom sends its rate-limit headers on every answer, and the limit type on a 429."""
    resp.headers.update(
        {
            "X-RateLimit-Category": "Light",
            "X-RateLimit-Limit": str(rate[0]),
            "X-RateLimit-Remaining": str(rate[1]),
        }
    )
    if resp.status == 429:
        resp.headers["X-RateLimit-Type"] = "QPS"


def describe(base: str, creds: dict) -> str:
    return f"  Zoom    API {base}/zoom/v2  (token {base}/zoom{token.TOKEN_PATH})"


PROVIDER = Provider(
    system="zoom",
    api_prefix="/v2",
    router=users.router,
    token_params=at_path(token.TOKEN_PATH),
    token=token.token_endpoint,
    authenticate=token.authenticate,
    errors=errors.SHAPES,
    rate_limits={"light": 1800},
    person_view=control.zoom_view,
    describe=describe,
    rate_headers=rate_headers,
)
