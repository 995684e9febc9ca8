"""Forms for the offboarding pages. They validate input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from offboarding import playbooks
from offboarding.models import ActionRequest, SystemChoices


class SearchForm(forms.Form):
    """Type-ahead over name, email and login (Okta `q`), or an Okta search expression."""

    q = forms.CharField(
        label="Name, email or login",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": "e.g. alice or alice@"}
        ),
    )
    expression = forms.CharField(
        label="Okta search expression",
        required=False,
        max_length=1000,
        help_text='For example: profile.department eq "Engineering" and status eq "ACTIVE"',
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    after = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)


class ActionRequestForm(forms.Form):
    kind = forms.ChoiceField(label="Action", choices=ActionRequest.Kind.choices)
    systems = forms.MultipleChoiceField(
        label="Systems",
        choices=SystemChoices.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[c for c, _ in SystemChoices.choices],
        error_messages={"required": "Choose at least one system."},
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why this is needed; approvers and auditors read it.",
        error_messages={"required": "Say why: a reason is required."},
    )
    ticket = forms.CharField(
        label="Ticket", required=False, max_length=100, help_text="Optional, e.g. INC-1234."
    )
    scheduled_for = forms.DateTimeField(
        label="Run later",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )

    def __init__(
        self, *args: Any, kind: str = ActionRequest.Kind.RESET_SESSIONS, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheduled_for"].help_text = (
            "Optional: run at this date and time once approved "
            f"(time zone: {timezone.get_current_timezone_name()}). Empty = as soon as approved."
        )
        self.option_specs: list[playbooks.OptionSpec] = []
        for playbook in playbooks.PLAYBOOKS.values():
            for option in playbook.options:
                name = f"opt_{playbook.kind}_{option.key}"
                self.fields[name] = forms.BooleanField(
                    required=False, initial=option.default, label=option.label
                )
                if playbook.kind == kind:
                    self.option_specs.append(option)

    def clean_scheduled_for(self) -> Any:
        value = self.cleaned_data.get("scheduled_for")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("Choose a time in the future, or leave it empty.")
        return value

    def chosen_options(self) -> dict[str, bool]:
        kind = self.cleaned_data["kind"]
        playbook = playbooks.get_playbook(kind)
        return {o.key: bool(self.cleaned_data.get(f"opt_{kind}_{o.key}")) for o in playbook.options}

    def option_fields(self, kind: str) -> list[forms.BoundField]:
        return [self[f"opt_{kind}_{o.key}"] for o in playbooks.get_playbook(kind).options]


class DecisionForm(forms.Form):
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional for approval; tell the requester why when you reject.",
    )


class RetrySystemForm(forms.Form):
    system = forms.ChoiceField(choices=SystemChoices.choices)
