"""The Microsoft tenant's OpenID Connect discovery document and keys (MS-OIDC), outside the API.

`/graph/login/{tenant}/v2.0/.well-known/openid-configuration` stands for
`https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration`; an unknown
tenant gets Entra's 400 AADSTS90002. The sandbox's Graph tokens are opaque, so the key set it
publishes is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox.msgraph.token import aad_error
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()  # Provider.pages: below /graph, no API auth, faults or rate limits


def _tenant(app: App, req: Request) -> str | Resp:
    tenant = req.params["tenant"]
    if tenant != app.keys.creds["graph"]["tenant_id"]:
        return aad_error(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.",
        )
    return tenant


@router.add("GET", "/login/{tenant}/v2.0/.well-known/openid-configuration")
def openid_configuration(app: App, req: Request) -> Resp:
    tenant = _tenant(app, req)
    if isinstance(tenant, Resp):
        return tenant
    login = f"{req.base_url}/graph/login/{tenant}"
    return Resp(
        200,
        {
            "issuer": f"{login}/v2.0",
            "token_endpoint": f"{login}/oauth2/v2.0/token",
            "authorization_endpoint": f"{login}/oauth2/v2.0/authorize",
            "jwks_uri": f"{login}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "scope_types_supported": ["openid", "profile", "email", "offline_access"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "name", "oid", "tid"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "request_uri_parameter_supported": False,
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
        },
    )


@router.add("GET", "/login/{tenant}/discovery/v2.0/keys")
def keys(app: App, req: Request) -> Resp:
    tenant = _tenant(app, req)
    return tenant if isinstance(tenant, Resp) else Resp(200, {"keys": []})
