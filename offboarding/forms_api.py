"""The form of the API tokens page (issue 15)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group

from offboarding.models import ApiToken
from offboarding.roles import Role


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="Letters, digits, dots, dashes, underscores, e.g. hr-system."
    )
    team = forms.ModelChoiceField(
        queryset=Group.objects.filter(delegations__active=True)
        .exclude(name__in=Role.values)
        .distinct()
        .order_by("name"),
        help_text="The token may do only what this team's delegations allow.",
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        help_text="Optional, e.g. 2027-06-30 18:00 (the portal's time zone).",
    )
