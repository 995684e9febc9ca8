"""Zoom: the account's Users API, as a Server-to-Server OAuth app."""

from __future__ import annotations

from connections.providers.provider import Defaults, Effect, Hosts, Operation, Provider
from connections.providers.zoom import lockout
from connections.providers.zoom.client import ZoomClient
from connections.providers.zoom.form import ZoomForm
from connections.types import System

PROVIDER = Provider(
    system=System.ZOOM,
    short_label="Zoom",
    client_class=ZoomClient,
    form_class=ZoomForm,
    operations=(
        Operation(
            "deactivate",
            "Deactivate in Zoom",
            lambda c, who, o: c.deactivate_user(who),
            Effect.LOCK,
        ),
        Operation(
            "activate", "Activate in Zoom", lambda c, who, o: c.activate_user(who), Effect.UNLOCK
        ),
        Operation(
            "revoke_token", "Revoke the Zoom SSO token", lambda c, who, o: c.revoke_token(who)
        ),
        Operation("verify", "Verify the Zoom lockout", lambda c, who, o: lockout.verify(c, who, o)),
    ),
    identity_attribute="email",
    hosts=Hosts(names=frozenset({"api.zoom.us", "zoom.us"})),
    required_settings=("account_id", "client_id"),
    required_secrets={"": ("client_secret",)},
    defaults=Defaults(
        api_base_url="https://api.zoom.us/v2",
        token_url="https://zoom.us/oauth/token",  # noqa: S106 (a URL, not a secret)
    ),
)
