"""Connection forms: non-secret settings, and write-only secret fields that are never pre-filled."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.utils import formats

from connections.models import DEFAULTS, Connection
from connections.types import System

IDENTITY_HELP = (
    "Which Okta profile attribute finds the person in this system: login, email, or another "
    "profile attribute name."
)
_OKTA_SCOPE = re.compile(r"^okta\.[A-Za-z]+(\.[A-Za-z]+)+$")


class SecretInput(forms.PasswordInput):
    """A password box that never renders a value back."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False
        )


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value back (for PEM keys and JSON key files)."""

    def format_value(self, value: Any) -> str:
        return ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        return super().get_context(
            name, None, {"autocomplete": "off", "spellcheck": "false", **(attrs or {})}
        )


class ConnectionForm(forms.Form):
    """Fields shared by every system. Subclasses add `SETTING_FIELDS` and `SECRET_FIELDS`."""

    system: System
    SETTING_FIELDS: tuple[str, ...] = ()
    SECRET_FIELDS: tuple[str, ...] = ()
    LIST_FIELDS: tuple[str, ...] = ()

    label = forms.CharField(max_length=100, required=False, help_text="A name for this connection.")
    identity_attribute = forms.CharField(max_length=64, required=False, help_text=IDENTITY_HELP)
    api_base_url = forms.CharField(
        label="API base URL", required=False, help_text="Leave blank for the provider's own URL."
    )
    token_url = forms.CharField(
        label="Token URL", required=False, help_text="Leave blank for the provider's own URL."
    )
    max_concurrency = forms.IntegerField(
        label="Calls at once",
        min_value=1,
        max_value=50,
        required=False,
        help_text="How many calls to this system may run at the same time.",
    )

    def __init__(self, *args: Any, connection: Connection | None = None, **kwargs: Any) -> None:
        self.connection = connection
        if connection is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial_from(connection)
        super().__init__(*args, **kwargs)
        self.fields["max_concurrency"].widget.attrs["placeholder"] = str(
            DEFAULTS[self.system]["max_concurrency"]
        )
        when = (
            formats.date_format(connection.secret_set_at, "DATETIME_FORMAT")
            if connection and connection.secret_set_at
            else None
        )
        for name in self.SECRET_FIELDS:
            field = self.fields[name]
            state = (
                f"Set on {when}. Leave blank to keep it; type a new value to replace it."
                if when
                else "Not set yet."
            )
            field.help_text = f"{field.help_text} {state}".strip()

    def _initial_from(self, connection: Connection) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "label": connection.label,
            "max_concurrency": connection.max_concurrency,
        }
        for name in (*self.SETTING_FIELDS, "identity_attribute", "api_base_url", "token_url"):
            value = connection.settings.get(name, "")
            initial[name] = "\n".join(value) if isinstance(value, list) else value
        return initial

    def settings_data(self) -> dict[str, Any]:
        data = {}
        for name in (*self.SETTING_FIELDS, "identity_attribute", "api_base_url", "token_url"):
            value = self.cleaned_data.get(name)
            data[name] = value.strip() if isinstance(value, str) else value
        return data

    def secret_data(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data.get(name)
            for name in self.SECRET_FIELDS
            if self.cleaned_data.get(name)
        }

    def add_service_errors(self, errors: dict[str, str]) -> None:
        """Show errors from services.validate_settings on the right fields."""
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)


def _lines(value: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", value or "") if item]


class OktaForm(ConnectionForm):
    system = System.OKTA
    SETTING_FIELDS = ("org_url", "auth_mode", "client_id", "key_id", "scopes", "custom_domains")
    SECRET_FIELDS = ("api_token", "private_key_pem")

    org_url = forms.CharField(
        label="Okta org URL",
        help_text="e.g. https://acme.okta.com (or your custom domain, added below first).",
    )
    auth_mode = forms.ChoiceField(
        choices=[("oauth", "OAuth service app (recommended)"), ("ssws", "API token (SSWS)")],
        initial="oauth",
    )
    client_id = forms.CharField(
        required=False,
        help_text=(
            "OAuth: the client id of an “API Services” app using Public key/Private key "
            "(private_key_jwt). Turn OFF “Require Demonstrating Proof of Possession (DPoP)” on the "
            "app: this portal does not send DPoP proofs. Grant the scopes below on its “Okta API "
            "Scopes” tab and assign it an admin role that covers them."
        ),
    )
    key_id = forms.CharField(
        required=False, label="Key id (kid)", help_text="The kid of the app's public key."
    )
    scopes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="okta.users.read okta.users.manage okta.groups.manage",
        help_text="Grant okta.users.read, okta.users.manage and okta.groups.manage.",
    )
    custom_domains = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Custom Okta domains this connection may call, one per line (e.g. login.acme.com).",
    )
    api_token = forms.CharField(
        required=False,
        widget=SecretInput,
        label="API token",
        help_text="SSWS only. It acts with the rights of the admin who created it (not scoped).",
    )
    private_key_pem = forms.CharField(
        required=False,
        widget=SecretTextarea(attrs={"rows": 4}),
        label="Private key (PEM)",
        help_text="OAuth only: the RSA or EC private key whose public key is registered on the app.",
    )

    def _initial_from(self, connection: Connection) -> dict[str, Any]:
        initial = super()._initial_from(connection)
        initial["scopes"] = (
            " ".join(connection.settings.get("scopes") or []) or self.base_fields["scopes"].initial
        )
        return initial

    def clean_scopes(self) -> list[str]:
        scopes = _lines(self.cleaned_data.get("scopes", ""))
        bad = [s for s in scopes if not _OKTA_SCOPE.match(s)]
        if bad:
            raise forms.ValidationError(f"Not an Okta scope: {', '.join(bad)}")
        return scopes

    def clean_custom_domains(self) -> list[str]:
        return _lines(self.cleaned_data.get("custom_domains", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("auth_mode") == "oauth" and not data.get("client_id"):
            self.add_error("client_id", "The OAuth service app needs its client id.")
        return data


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


class ZoomForm(ConnectionForm):
    system = System.ZOOM
    SETTING_FIELDS = ("account_id", "client_id")
    SECRET_FIELDS = ("client_secret",)

    account_id = forms.CharField(help_text="From the Server-to-Server OAuth app's App Credentials.")
    client_id = forms.CharField(
        help_text=(
            "Create a Server-to-Server OAuth app and add the scopes user:read:admin and "
            "user:write:admin (granular: user:read:user:admin, user:update:status:admin, "
            "user:delete:token:admin), then activate it."
        )
    )
    client_secret = forms.CharField(required=False, widget=SecretInput, label="Client secret")


class GraphForm(ConnectionForm):
    system = System.MSGRAPH
    SETTING_FIELDS = ("tenant_id", "client_id", "auth_mode", "thumbprint")
    SECRET_FIELDS = ("client_secret", "private_key_pem", "certificate_pem")

    tenant_id = forms.CharField(
        label="Tenant id", help_text="Directory (tenant) ID of your Entra ID."
    )
    client_id = forms.CharField(
        label="Application (client) id",
        help_text=(
            "An app registration with these Microsoft Graph application permissions, admin "
            "consented: User.Read.All, User.ReadWrite.All (or User.EnableDisableAccount.All) and "
            "User.RevokeSessions.All. Disabling admins also needs a privileged Entra role on the app."
        ),
    )
    auth_mode = forms.ChoiceField(
        choices=[("certificate", "Certificate (recommended)"), ("secret", "Client secret")],
        initial="certificate",
    )
    thumbprint = forms.CharField(
        required=False,
        label="Certificate SHA-256 thumbprint",
        help_text="Hex or base64url; worked out from the certificate when you paste it.",
    )
    client_secret = forms.CharField(required=False, widget=SecretInput, label="Client secret")
    private_key_pem = forms.CharField(
        required=False,
        widget=SecretTextarea(attrs={"rows": 4}),
        label="Certificate private key (PEM)",
    )
    certificate_pem = forms.CharField(
        required=False,
        widget=SecretTextarea(attrs={"rows": 4}),
        label="Certificate (PEM)",
        help_text="The public certificate uploaded to the app registration.",
    )


FORMS: dict[System, type[ConnectionForm]] = {
    System.OKTA: OktaForm,
    System.GOOGLE: GoogleForm,
    System.ZOOM: ZoomForm,
    System.MSGRAPH: GraphForm,
}


class EnableForm(forms.Form):
    enabled = forms.BooleanField(required=False)
