"""Django admin for connections: settings editable, the secret write-only (set on <date>, replace)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from connections import services
from connections.exceptions import InvalidSettings
from connections.forms import SecretTextarea, when_words
from connections.models import Connection
from connections.types import System


class ConnectionAdminForm(forms.ModelForm):
    replace_secret = forms.CharField(
        required=False,
        widget=SecretTextarea(attrs={"rows": 4}),
        help_text='Leave blank to keep the stored secret. To replace values, enter a JSON object, e.g. {"client_secret": "…"}.',
    )

    class Meta:
        model = Connection
        fields = ["system", "label", "settings", "max_concurrency"]

    def clean_replace_secret(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("replace_secret")
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("Enter a JSON object.") from None
        if not isinstance(data, dict):
            raise forms.ValidationError("Enter a JSON object.")
        return data

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        system, settings = data.get("system"), data.get("settings")
        if system and isinstance(settings, dict):
            try:
                services.validate_settings(System(system), settings)
            except InvalidSettings as exc:
                for name, message in exc.args[0].items():
                    self.add_error("settings", f"{name}: {message}")
        return data


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["system", "label", "enabled", "secret_status", "last_test_ok", "last_test_at"]
    readonly_fields = [
        "enabled",
        "secret_status",
        "last_test_at",
        "last_test_ok",
        "last_test_message",
    ]

    @admin.display(description="Secret")
    def secret_status(self, obj: Connection) -> str:
        if obj.secret_set_at:
            return f"set on {when_words(obj.secret_set_at)}"
        return "not set"

    def save_model(
        self, request: HttpRequest, obj: Connection, form: forms.Form, change: bool
    ) -> None:
        # Through the service, so validation, encryption and the audit signal are the same.
        try:
            result = services.connection_save(
                system=System(obj.system),
                actor=request.user,
                label=obj.label,
                settings=obj.settings,
                secret=form.cleaned_data.get("replace_secret"),
                max_concurrency=obj.max_concurrency,
            )
        except InvalidSettings as exc:
            messages.error(request, "; ".join(f"{k}: {v}" for k, v in exc.args[0].items()))
            return
        obj.pk = result.connection.pk
        obj.refresh_from_db()
