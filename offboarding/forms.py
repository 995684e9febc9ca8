"""Forms for the offboarding pages. They validate input; the services decide."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from offboarding import playbooks, selectors_playbooks
from offboarding.models import ActionRequest, AuditEvent, SystemChoices
from offboarding.roles import Role
from offboarding.selectors_verification import FILTER_CHOICES as VERIFICATION_CHOICES


class SearchForm(forms.Form):
    """Type-ahead over name, email and login (an Okta `search` built from the words), or an Okta
    search expression."""

    q = forms.CharField(
        label="Name, email or login",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": "e.g. Alice Anders or alice@",
            }
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
    # Sent by the name box while the person types: such lookups are not audited one by one.
    typeahead = forms.BooleanField(required=False, widget=forms.HiddenInput)


def systems_field() -> forms.MultipleChoiceField:
    """Every system ticked, in the portal's one order; at least one required."""
    return forms.MultipleChoiceField(
        label="Systems",
        choices=SystemChoices.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[c for c, _ in SystemChoices.choices],
        error_messages={"required": "Choose at least one system."},
    )


class ActionRequestForm(forms.Form):
    kind = forms.ChoiceField(label="Action", choices=ActionRequest.Kind.choices)
    systems = systems_field()
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
        # Issue 17: the newest version of each custom playbook is offered too.
        kind_field = cast(forms.ChoiceField, self.fields["kind"])
        kind_field.choices = selectors_playbooks.request_kind_choices()
        chosen = playbooks.find_playbook(str(kind))
        custom = [chosen] if chosen is not None and chosen.kind not in playbooks.PLAYBOOKS else []
        for playbook in (*playbooks.PLAYBOOKS.values(), *custom):
            for option in playbook.options:
                name = f"opt_{playbook.kind}_{option.key}"
                self.fields[name] = forms.BooleanField(
                    required=False, initial=option.default, label=option.label
                )
                if playbook.kind == kind:
                    self.option_specs.append(option)

    # Issue 13: offboarding someone this portal already offboarded needs this ticked.
    confirm_repeat = forms.BooleanField(
        required=False, label="I know this person was already offboarded: offboard again"
    )
    repeat_of = ""  # words about the earlier offboard; set by the view, then the box is required

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.repeat_of and not cleaned.get("confirm_repeat"):
            self.add_error(
                "confirm_repeat", "Tick the box to confirm: this person was already offboarded."
            )
        return cleaned

    def system_values(self) -> list[str]:
        """Every system the form offers, in its order."""
        return [str(value) for value, _ in SystemChoices.choices]

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


# --- Break-glass and after-the-fact review (issue 14) ---------------------------------------------


class BreakGlassForm(forms.Form):
    """Reset sessions (default options) or an offboard's lock steps, run at once."""

    kind = forms.ChoiceField(
        label="Action",
        choices=[(k, ActionRequest.Kind(k).label) for k in playbooks.BREAK_GLASS_KINDS],
    )
    systems = systems_field()
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="The incident: approvers review this run afterwards and read it.",
        error_messages={"required": "Say why: break-glass needs a reason."},
    )
    ticket = forms.CharField(
        label="Incident ticket", required=False, max_length=100, help_text="e.g. INC-1234."
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accepted", "Accept"), ("flagged", "Flag")],
        error_messages={"required": "Choose accept or flag."},
    )
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to flag: say what was wrong.",
    )


# --- Filters of the history and audit pages (and their exports) -------------------------------


def _any(choices: Any) -> list[tuple[str, str]]:
    return [("", "Any"), *choices]


class DateRangeForm(forms.Form):
    """From and to dates (both inclusive), read in the portal's time zone."""

    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The “From” date must not be after the “To” date.")
        return data

    def date_bounds(self) -> dict[str, datetime | None]:
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        return {
            "since": timezone.make_aware(datetime.combine(since, time.min)) if since else None,
            "until": (
                timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
                if until
                else None
            ),
        }


class HistoryFilterForm(DateRangeForm):
    state = forms.ChoiceField(
        label="State", required=False, choices=_any(ActionRequest.State.choices)
    )
    kind = forms.ChoiceField(
        label="Action", required=False, choices=_any(ActionRequest.Kind.choices)
    )
    system = forms.ChoiceField(label="System", required=False, choices=_any(SystemChoices.choices))
    requester = forms.CharField(label="Requester", required=False, max_length=150)
    target = forms.CharField(label="Person", required=False, max_length=254)
    verification = forms.ChoiceField(
        label="Read-back", required=False, choices=VERIFICATION_CHOICES
    )
    field_order = (
        "state",
        "kind",
        "system",
        "verification",
        "requester",
        "target",
        "since",
        "until",
    )

    def selector_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        keys = ("state", "kind", "system", "verification", "requester", "target")
        return {
            **{k: data.get(k) or None for k in keys},
            **self.date_bounds(),
        }


class AuditFilterForm(DateRangeForm):
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AuditEvent.Action.choices]
    )
    actor = forms.CharField(label="Who", required=False, max_length=254)
    target = forms.CharField(label="Person acted upon", required=False, max_length=254)
    field_order = ("action", "actor", "target", "since", "until")

    def selector_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **{k: data.get(k) or None for k in ("action", "actor", "target")},
            **self.date_bounds(),
        }


# --- Policies ------------------------------------------------------------------------------------


class DelegationForm(forms.Form):
    name = forms.CharField(max_length=120)
    team = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"), help_text="The team whose members may ask."
    )
    allowed_actions = forms.MultipleChoiceField(
        choices=ActionRequest.Kind.choices, widget=forms.CheckboxSelectMultiple
    )
    target_group_ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Okta groups they may target",
        help_text="Okta group ids (00g…), one per line. Empty: everyone who is not protected.",
    )
    approver_group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        help_text="Members of this group who are Approvers decide these requests.",
    )
    approvals_needed = forms.IntegerField(min_value=1, max_value=5, initial=1)
    expiry_hours = forms.IntegerField(
        min_value=1, max_value=720, initial=72, help_text="Unapproved requests expire after this."
    )
    reset_sessions_without_approval = forms.BooleanField(
        required=False,
        help_text="Incident policy: reset sessions runs at once. Offboarding always needs approval.",
    )
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Issue 17: custom playbooks can be offered like the built-in actions.
        offered = list((self.initial or {}).get("allowed_actions") or [])
        field = cast(forms.MultipleChoiceField, self.fields["allowed_actions"])
        field.choices = selectors_playbooks.delegation_kind_choices(also=offered)

    def clean_target_group_ids(self) -> list[str]:
        ids = [line.strip() for line in self.cleaned_data["target_group_ids"].splitlines()]
        bad = [i for i in ids if i and not i.isalnum()]
        if bad:
            raise forms.ValidationError(f"Not an Okta group id: {bad[0]!r}.")
        return [i for i in ids if i]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        group, needed = data.get("approver_group"), data.get("approvals_needed")
        if group and needed:
            role_members = get_user_model().objects.filter(groups__name=Role.APPROVER).values("pk")
            approvers = group.user_set.filter(is_active=True, pk__in=role_members).count()
            if approvers < needed:
                self.add_error(
                    "approvals_needed",
                    f"“{group.name}” has {approvers} active Approver(s); "
                    f"{needed} approvals could never be reached.",
                )
        return data


class BulkForm(forms.Form):
    """One action for many people: a CSV file (login or email per row) or an Okta group."""

    kind = forms.ChoiceField(label="Action", choices=ActionRequest.Kind.choices)
    systems = systems_field()
    file = forms.FileField(
        label="CSV file",
        required=False,
        help_text="One login or email per row; optional columns reason, ticket, scheduled_for.",
    )
    group_id = forms.CharField(
        label="…or everyone in this Okta group",
        required=False,
        max_length=64,
        help_text="The group's id (00g…).",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Used for every row that gives none.",
        error_messages={"required": "Say why: a reason is required."},
    )
    ticket = forms.CharField(label="Ticket", required=False, max_length=100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("file")) == bool((data.get("group_id") or "").strip()):
            raise forms.ValidationError("Upload a CSV file or give an Okta group (one of the two).")
        return data
