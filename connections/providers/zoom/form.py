"""The Zoom connection form: a Server-to-Server OAuth app."""

from __future__ import annotations

from django import forms

from connections.forms import ConnectionForm, SecretInput
from connections.types import System

SCOPES_HELP = (
    "user:read:admin and user:write:admin (granular: user:read:user:admin, "
    "user:update:status:admin, user:delete:token:admin)"
)


class ZoomForm(ConnectionForm):
    system = System.ZOOM
    SETTING_FIELDS = ("account_id", "client_id")
    SECRET_FIELDS = ("client_secret",)

    account_id = forms.CharField(help_text="From the Server-to-Server OAuth app's App Credentials.")
    client_id = forms.CharField(
        help_text=f"Create a Server-to-Server OAuth app and add the scopes {SCOPES_HELP}, then activate it."
    )
    client_secret = forms.CharField(required=False, widget=SecretInput, label="Client secret")
