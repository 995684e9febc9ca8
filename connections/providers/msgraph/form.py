"""The Microsoft Graph connection form: an Entra ID app with a certificate or a client secret."""

from __future__ import annotations

from django import forms

from connections.forms import ConnectionForm, SecretInput, SecretTextarea
from connections.types import System

PERMISSIONS_HELP = (
    "User.Read.All, User.ReadWrite.All (or User.EnableDisableAccount.All) and "
    "User.RevokeSessions.All"
)


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
            f"consented: {PERMISSIONS_HELP}. Disabling admins also needs a privileged Entra role "
            "on the app."
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
