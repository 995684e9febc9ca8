"""Forms for the minimal pages. They validate input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from offboarding import playbooks
from offboarding.models import ActionRequest, SystemChoices


class ActionRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=ActionRequest.Kind.choices)
    systems = forms.MultipleChoiceField(
        choices=SystemChoices.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[c for c, _ in SystemChoices.choices],
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    ticket = forms.CharField(required=False, max_length=100)
    scheduled_for = forms.DateTimeField(
        required=False,
        help_text="Optional: run at this time once approved (YYYY-MM-DD HH:MM).",
    )

    def __init__(
        self, *args: Any, kind: str = ActionRequest.Kind.RESET_SESSIONS, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.option_specs: list[playbooks.OptionSpec] = []
        for playbook in playbooks.PLAYBOOKS.values():
            for option in playbook.options:
                name = f"opt_{playbook.kind}_{option.key}"
                self.fields[name] = forms.BooleanField(
                    required=False, initial=option.default, label=option.label
                )
                if playbook.kind == kind:
                    self.option_specs.append(option)

    def chosen_options(self) -> dict[str, bool]:
        kind = self.cleaned_data["kind"]
        playbook = playbooks.get_playbook(kind)
        return {o.key: bool(self.cleaned_data.get(f"opt_{kind}_{o.key}")) for o in playbook.options}

    def option_fields(self, kind: str) -> list[forms.BoundField]:
        return [self[f"opt_{kind}_{o.key}"] for o in playbooks.get_playbook(kind).options]


class DecisionForm(forms.Form):
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RetrySystemForm(forms.Form):
    system = forms.ChoiceField(choices=SystemChoices.choices)
