"""Connection forms: the fields every system shares, and write-only secret widgets.

Each system's own fields live in connections/providers/<system>/form.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import dateformat, timezone

from connections.models import Connection
from connections.providers import provider_for
from connections.types import System

IDENTITY_HELP = (
    "Which Okta profile attribute finds the person in this system: login, email, or another "
    "profile attribute name."
)


def when_words(moment: datetime) -> str:
    """The portal's one date style, with the time zone: 2026-12-01 13:46 UTC (issue 16)."""
    return dateformat.format(timezone.localtime(moment), "Y-m-d H:i T")


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
            provider_for(self.system).defaults.max_concurrency
        )
        when = (
            when_words(connection.secret_set_at)
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


class EnableForm(forms.Form):
    enabled = forms.BooleanField(required=False)
