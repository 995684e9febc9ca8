"""The simulated Microsoft 365 tenant: Graph /v1.0 under /graph, the Entra token endpoint.

The system is called "graph" in URLs, faults, the effect log and the control API.
"""

from __future__ import annotations

from connections.sandbox.msgraph import (
    control,
    devices,
    discovery,
    errors,
    listing,
    roles,
    token,
    users,
)
from connections.sandbox.provider import Provider
from connections.sandbox.routing import Router


def describe(base: str, creds: dict) -> str:
    tenant = creds["graph"]["tenant_id"]
    return f"  Graph   API {base}/graph/v1.0  (token {base}/graph/login/{tenant}/oauth2/v2.0/token)"


PROVIDER = Provider(
    system="graph",
    api_prefix="/v1.0",
    router=Router.joined(users.router, listing.router, roles.router, devices.router),
    token_params=token.token_params,
    token=token.token_endpoint,
    authenticate=token.authenticate,
    errors=errors.SHAPES,
    rate_limits={"users": 3000, "devices": 3000},
    person_view=control.graph_view,
    describe=describe,
    load_keys=token.load_keys,
    pages=discovery.router,
)
