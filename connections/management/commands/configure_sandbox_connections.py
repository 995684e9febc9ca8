"""Point all four connections at the local sandbox (PORTAL_SANDBOX only), and enable them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections import services
from connections.exceptions import InvalidSettings
from connections.sandbox.credentials import ensure_credentials
from connections.types import System


def sandbox_connections(base: str, creds: dict[str, Any]) -> dict[System, dict[str, Any]]:
    """Settings and secret per system for a sandbox at `base`."""
    okta, google, zoom, graph = creds["okta"], creds["google"], creds["zoom"], creds["graph"]
    return {
        System.OKTA: {
            "settings": {
                "org_url": f"{base}/okta",
                "api_base_url": f"{base}/okta/api/v1",
                "token_url": f"{base}/okta/oauth2/v1/token",
                "auth_mode": "oauth",
                "client_id": okta["client_id"],
                "dpop": True,  # the sandbox's service app requires DPoP, like Okta recommends
                "key_id": okta["key_id"],
                "scopes": [
                    "okta.users.read",
                    "okta.users.manage",
                    "okta.groups.manage",
                    "okta.apps.manage",
                    "okta.devices.manage",
                    "okta.eventHooks.manage",  # registering the portal's event hook (issue 14)
                    "okta.logs.read",  # the System Log reconciliation (issue 14)
                ],
                "identity_attribute": "id",
            },
            "secret": {"private_key_pem": okta["private_key_pem"], "api_token": okta["api_token"]},
        },
        System.GOOGLE: {
            "settings": {
                "api_base_url": f"{base}/google",
                "token_url": f"{base}/google/token",
                "admin_email": google["admin_email"],
                "customer_id": google["customer_id"],
                "client_email": google["service_account"]["client_email"],
                "identity_attribute": "email",
            },
            "secret": {"service_account": google["service_account"]},
        },
        System.ZOOM: {
            "settings": {
                "api_base_url": f"{base}/zoom/v2",
                "token_url": f"{base}/zoom/oauth/token",
                "account_id": zoom["account_id"],
                "client_id": zoom["client_id"],
                "identity_attribute": "email",
            },
            "secret": {"client_secret": zoom["client_secret"]},
        },
        System.MSGRAPH: {
            "settings": {
                "api_base_url": f"{base}/graph/v1.0",
                "token_url": f"{base}/graph/login/{{tenant}}/oauth2/v2.0/token",
                "tenant_id": graph["tenant_id"],
                "client_id": graph["client_id"],
                "auth_mode": "certificate",
                "thumbprint": graph["thumbprint_sha256"],
                "identity_attribute": "login",
            },
            "secret": {
                "private_key_pem": graph["private_key_pem"],
                "certificate_pem": graph["certificate_pem"],
                "client_secret": graph["client_secret"],
            },
        },
    }


class Command(BaseCommand):
    help = "Create or update the four connections against the local sandbox (needs PORTAL_SANDBOX=true)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PORTAL_SANDBOX:
            raise CommandError(
                "PORTAL_SANDBOX is off: refusing to point connections at the sandbox."
            )
        creds = ensure_credentials(Path(settings.VAR_DIR) / "sandbox")
        base = settings.PORTAL_SANDBOX_URL.rstrip("/")
        for system, spec in sandbox_connections(base, creds).items():
            try:
                result = services.connection_save(
                    system=system,
                    actor=None,
                    label=f"{system.label} (sandbox)",
                    settings=spec["settings"],
                    secret=spec["secret"],
                )
                services.connection_set_enabled(
                    connection=result.connection, actor=None, enabled=True
                )
            except InvalidSettings as exc:
                raise CommandError(f"{system.label}: {exc.args[0]}") from None
            self.stdout.write(f"{system.label}: configured against {base} and enabled.")
