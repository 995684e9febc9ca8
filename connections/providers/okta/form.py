"""The Okta connection form: org URL, OAuth service app or API token, custom domains."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from connections.forms import ConnectionForm, SecretInput, SecretTextarea
from connections.models import Connection
from connections.types import System

_OKTA_SCOPE = re.compile(r"^okta\.[A-Za-z]+(\.[A-Za-z]+)+$")


def _lines(value: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", value or "") if item]


class OktaForm(ConnectionForm):
    system = System.OKTA
    SETTING_FIELDS = (
        "org_url",
        "auth_mode",
        "client_id",
        "dpop",
        "key_id",
        "scopes",
        "custom_domains",
    )
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
            "(private_key_jwt). Grant the scopes below on its “Okta API Scopes” tab and assign it "
            "an admin role that covers them."
        ),
    )
    dpop = forms.BooleanField(
        required=False,
        initial=True,
        label="Use DPoP",
        help_text=(
            "Okta recommends DPoP: leave “Require Demonstrating Proof of Possession (DPoP) header "
            "in token requests” ticked on the app in Okta, and this box ticked here. The portal "
            "makes this connection's own DPoP key pair when you save (nothing to register in "
            "Okta: the token is bound to it) and keeps it encrypted with the other secrets; every "
            "token request and API call then carries a new proof signed with it. Untick only if "
            "the app does not require DPoP."
        ),
    )
    key_id = forms.CharField(
        required=False, label="Key id (kid)", help_text="The kid of the app's public key."
    )
    scopes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        initial="okta.users.read okta.users.manage okta.groups.manage okta.apps.manage",
        help_text=(
            "Grant okta.users.read, okta.users.manage and okta.groups.manage; "
            "okta.apps.manage lets reinstate assign apps again."
        ),
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
        initial["dpop"] = connection.settings.get("dpop") is not False
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
        super().clean()
        data = self.cleaned_data
        if data.get("auth_mode") == "oauth" and not data.get("client_id"):
            self.add_error("client_id", "The OAuth service app needs its client id.")
        return data
