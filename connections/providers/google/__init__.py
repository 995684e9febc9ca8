"""Google Workspace: the Admin SDK Directory API, as a service account with domain-wide delegation."""

from __future__ import annotations

from connections.providers.google import lockout
from connections.providers.google.client import GoogleWorkspaceClient
from connections.providers.google.form import GoogleForm
from connections.providers.provider import (
    Defaults,
    Effect,
    Hosts,
    Operation,
    Provider,
    option_flag,
)
from connections.types import System

PROVIDER = Provider(
    system=System.GOOGLE,
    short_label="Google",
    client_class=GoogleWorkspaceClient,
    form_class=GoogleForm,
    operations=(
        Operation(
            "suspend",
            "Suspend in Google Workspace",
            lambda c, who, o: c.suspend_user(who),
            Effect.LOCK,
        ),
        Operation(
            "unsuspend",
            "Unsuspend in Google Workspace",
            lambda c, who, o: c.unsuspend_user(who),
            Effect.UNLOCK,
        ),
        Operation("sign_out", "Sign out of Google", lambda c, who, o: c.sign_out(who)),
        Operation(
            "revoke_oauth_tokens",
            "Revoke Google OAuth tokens",
            lambda c, who, o: c.revoke_oauth_tokens(who),
            rounds=2,
        ),
        Operation(
            "delete_app_passwords",
            "Delete Google app passwords",
            lambda c, who, o: c.delete_app_passwords(who),
            rounds=2,
        ),
        Operation(
            "invalidate_backup_codes",
            "Invalidate Google backup codes",
            lambda c, who, o: lockout.invalidate_backup_codes(c, who),
        ),
        Operation(
            "mobile_devices",
            "Wipe the account from (or block) Google mobile devices",
            lambda c, who, o: lockout.act_on_devices(
                c, who, block_only=option_flag(o, "block_only", False)
            ),
            rounds=2,
        ),
        Operation(
            "verify",
            "Verify the Google Workspace lockout",
            lambda c, who, o: lockout.verify(c, who, o),
        ),
    ),
    identity_attribute="email",
    hosts=Hosts(
        names=frozenset({"admin.googleapis.com", "oauth2.googleapis.com", "www.googleapis.com"})
    ),
    required_settings=("admin_email",),
    required_secrets={"": ("service_account",)},
    defaults=Defaults(
        api_base_url="https://admin.googleapis.com",
        token_url="https://oauth2.googleapis.com/token",  # noqa: S106 (a URL, not a secret)
    ),
    holdings=lockout.holdings,
)
