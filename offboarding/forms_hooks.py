"""Forms for the Okta event hook and its policies (issue 14). They validate input; the services
decide (and check again)."""

from __future__ import annotations

from django import forms

from connections.forms import SecretInput
from offboarding.models import EventPolicy
from offboarding.models.hooks import EVENT_TYPES

EVENT_TYPE_CHOICES = [(t, t) for t in EVENT_TYPES]


class EventPolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    event_type = forms.ChoiceField(label="Okta event type", choices=EVENT_TYPE_CHOICES)
    okta_group_id = forms.CharField(
        label="Only for this Okta group",
        required=False,
        max_length=64,
        help_text=(
            "An Okta group id (00g…). Group-membership events: the group joined (required). "
            "Other events: only people in this group. Empty: anyone."
        ),
    )
    action = forms.ChoiceField(choices=EventPolicy.Action.choices)
    mode = forms.ChoiceField(
        label="Approval",
        choices=EventPolicy.Mode.choices,
        help_text="Automatic is allowed only for reset sessions.",
    )
    active = forms.BooleanField(required=False, initial=True)


class EventHookForm(forms.Form):
    header_name = forms.CharField(
        label="Header name",
        max_length=64,
        initial="Authorization",
        help_text="The header Okta sends with each delivery (Okta's authScheme key).",
    )
    secret = forms.CharField(
        label="Secret",
        required=False,
        max_length=500,
        widget=SecretInput(),
        help_text="Write-only: leave empty to keep the current one.",
    )
    generate = forms.BooleanField(
        label="Generate a new random secret (never shown: register the hook in Okta below)",
        required=False,
    )
