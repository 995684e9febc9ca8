"""The Google Workspace connection form: customer, admin to impersonate, service-account key."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from connections.forms import ConnectionForm, SecretTextarea
from connections.types import System


class GoogleForm(ConnectionForm):
    system = System.GOOGLE
    SETTING_FIELDS = ("customer_id", "admin_email", "client_email")
    SECRET_FIELDS = ("service_account",)

    customer_id = forms.CharField(
        required=False, help_text="e.g. C01abc23d, or blank for my_customer."
    )
    admin_email = forms.EmailField(
        label="Admin to impersonate",
        help_text="A Workspace admin allowed to manage users; the service account acts as them.",
    )
    client_email = forms.CharField(
        required=False,
        disabled=True,
        label="Service account",
        help_text="Read from the key file.",
    )
    service_account = forms.CharField(
        required=False,
        widget=SecretTextarea(attrs={"rows": 4}),
        label="Service-account key (JSON)",
        help_text=(
            "The JSON key file. In the Admin console (Security → API controls → Domain-wide "
            "delegation) authorise the service account's client ID for exactly "
            "https://www.googleapis.com/auth/admin.directory.user and "
            "https://www.googleapis.com/auth/admin.directory.user.security."
        ),
    )

    def clean_service_account(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("service_account")
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("This is not JSON; paste the whole key file.") from None
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise forms.ValidationError("This is not a service-account key file.")
        for key in ("client_email", "private_key"):
            if not data.get(key):
                raise forms.ValidationError(f"The key file has no “{key}”.")
        return data

    def settings_data(self) -> dict[str, Any]:
        data = super().settings_data()
        account = self.cleaned_data.get("service_account")
        previous = self.connection.settings.get("client_email", "") if self.connection else ""
        data["client_email"] = account["client_email"] if account else previous
        return data
