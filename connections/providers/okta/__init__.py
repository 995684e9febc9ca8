"""Okta: where every request starts (the person is found here), and the first system locked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connections.providers.okta import lockout, restore
from connections.providers.okta.auth import dpop_wanted
from connections.providers.okta.client import OktaClient
from connections.providers.okta.dpop import SECRET_KEY, new_key_pem
from connections.providers.okta.form import OktaForm
from connections.providers.provider import (
    Defaults,
    Effect,
    Hosts,
    Operation,
    Provider,
    option_flag,
)
from connections.types import System


def _ids(options: Mapping[str, Any], name: str) -> list[str]:
    """A list of ids from connector options (anything else: none)."""
    value = options.get(name)
    return [str(v) for v in value] if isinstance(value, list) else []


def make_secrets(settings: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """The connection's DPoP key pair, made once when DPoP is on and none is stored."""
    if dpop_wanted(settings) and not secret.get(SECRET_KEY):
        return {SECRET_KEY: new_key_pem()}
    return {}


PROVIDER = Provider(
    system=System.OKTA,
    short_label="Okta",
    client_class=OktaClient,
    form_class=OktaForm,
    operations=(
        Operation("suspend", "Suspend in Okta", lambda c, who, o: c.suspend_user(who), Effect.LOCK),
        Operation(
            "unsuspend", "Unsuspend in Okta", lambda c, who, o: c.unsuspend_user(who), Effect.UNLOCK
        ),
        Operation(
            "clear_sessions",
            "Clear Okta sessions",
            lambda c, who, o: c.clear_sessions(
                who,
                oauth_tokens=option_flag(o, "oauth_tokens", True),
                forget_devices=option_flag(o, "forget_devices", True),
            ),
        ),
        Operation(
            "reset_factors", "Reset Okta authenticators", lambda c, who, o: c.reset_factors(who)
        ),
        Operation(
            "remove_from_groups",
            "Remove from Okta groups",
            lambda c, who, o: c.remove_from_groups(who),
            rounds=2,
        ),
        Operation(
            "revoke_grants", "Revoke Okta app grants", lambda c, who, o: c.revoke_grants(who)
        ),
        Operation(
            "unassign_apps",
            "Unassign Okta apps (direct assignments)",
            lambda c, who, o: lockout.unassign_apps(c, who),
            rounds=2,
        ),
        Operation(
            "lock_devices",
            "Suspend and deactivate Okta devices",
            lambda c, who, o: lockout.lock_devices(
                c, who, deactivate=option_flag(o, "deactivate", True)
            ),
            rounds=3,  # list, suspend, then deactivate
        ),
        Operation("verify", "Verify the Okta lockout", lambda c, who, o: lockout.verify(c, who, o)),
        Operation(
            "deactivate",
            "Deactivate in Okta (irreversible)",
            lambda c, who, o: c.deactivate_user(
                who, send_email=option_flag(o, "send_email", False)
            ),
            Effect.DEACTIVATE,
        ),
        # Issue 13: reinstate puts back what this portal's offboard removed (ids from its steps).
        Operation(
            "restore_groups",
            "Add back to the Okta groups the offboard removed",
            lambda c, who, o: restore.add_to_groups(c, who, _ids(o, "group_ids")),
        ),
        Operation(
            "restore_apps",
            "Assign again the Okta apps the offboard unassigned",
            lambda c, who, o: restore.assign_apps(c, who, _ids(o, "app_ids")),
        ),
    ),
    # The person is found by their Okta user id: the request already carries it.
    identity_attribute="id",
    hosts=Hosts(
        suffixes=(".okta.com", ".oktapreview.com", ".okta-emea.com"),
        hint=(
            "use your org's *.okta.com, *.oktapreview.com or *.okta-emea.com name, "
            "or add your custom domain first"
        ),
    ),
    required_settings=("org_url", "auth_mode"),
    required_secrets={"ssws": ("api_token",), "oauth": ("private_key_pem",)},
    # No fixed URLs: both derive from the org URL (or a custom domain).
    defaults=Defaults(max_concurrency=10),
    org_paths=("/api/v1", "/oauth2/v1/token"),
    make_secrets=make_secrets,
    holdings=lockout.holdings,
)
