"""Microsoft 365 (Entra ID) through Microsoft Graph, as an app with application permissions."""

from __future__ import annotations

from connections.providers.msgraph import lockout
from connections.providers.msgraph.client import MicrosoftGraphClient
from connections.providers.msgraph.form import GraphForm
from connections.providers.provider import Defaults, Effect, Hosts, Operation, Provider
from connections.types import System

PROVIDER = Provider(
    system=System.MSGRAPH,
    short_label="Microsoft 365",
    client_class=MicrosoftGraphClient,
    form_class=GraphForm,
    operations=(
        Operation(
            "disable",
            "Disable the Microsoft 365 account",
            lambda c, who, o: c.disable_user(who),
            Effect.LOCK,
        ),
        Operation(
            "enable",
            "Enable the Microsoft 365 account",
            lambda c, who, o: c.enable_user(who),
            Effect.UNLOCK,
        ),
        Operation(
            "revoke_sessions",
            "Revoke Microsoft 365 sign-in sessions",
            lambda c, who, o: c.revoke_sessions(who),
        ),
        Operation(
            "disable_devices",
            "Disable Microsoft 365 registered devices (needs Device.ReadWrite.All)",
            lambda c, who, o: lockout.disable_devices(c, who),
            rounds=2,
        ),
        Operation(
            "verify",
            "Verify the Microsoft 365 lockout",
            lambda c, who, o: lockout.verify(c, who, o),
        ),
    ),
    identity_attribute="login",
    hosts=Hosts(names=frozenset({"graph.microsoft.com", "login.microsoftonline.com"})),
    required_settings=("tenant_id", "client_id", "auth_mode"),
    required_secrets={"secret": ("client_secret",), "certificate": ("private_key_pem",)},
    defaults=Defaults(
        api_base_url="https://graph.microsoft.com/v1.0",
        token_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",  # noqa: S106 (a URL, not a secret)
    ),
    holdings=lockout.holdings,
)
