"""History: every request the user may view, filtered, in keyset pages (no OFFSET)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from offboarding import selectors
from offboarding.models import ActionRequest, SystemChoices

PAGE_SIZE = 50
CURSOR_PARAMS = ("older", "newer")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
        data = super().clean()
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
    field_order = ("state", "kind", "system", "requester", "target", "since", "until")

    def selector_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **{k: data.get(k) or None for k in ("state", "kind", "system", "requester", "target")},
            **self.date_bounds(),
        }


def may_browse_history(user: Any) -> bool:
    return perms.can_request(user) or perms.can_approve(user) or perms.can_view_audit(user)


def encode_cursor(at: datetime, pk: int) -> str:
    delta = at - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{pk}"


def decode_cursor(value: str) -> tuple[datetime, int]:
    """'<microseconds since 1970>.<id>' -> (datetime, id); ValueError when malformed."""
    micros, _, pk = value.partition(".")
    if not (micros.lstrip("-").isdigit() and pk.isdigit()):
        raise ValueError(value)
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


def filter_query(params: QueryDict) -> str:
    """The request's query string without the paging cursor, for links that keep the filters."""
    kept = params.copy()
    for name in CURSOR_PARAMS:
        kept.pop(name, None)
    return kept.urlencode()


def _page(qs: Any, params: QueryDict) -> selectors.KeysetPage:
    older, newer = params.get("older"), params.get("newer")
    if newer:
        return selectors.keyset_page(
            qs, fields=("requested_at", "id"), newer_than=decode_cursor(newer), size=PAGE_SIZE
        )
    older_than = decode_cursor(older) if older else None
    return selectors.keyset_page(
        qs, fields=("requested_at", "id"), older_than=older_than, size=PAGE_SIZE
    )


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_browse_history(user):
        raise PermissionDenied
    form = HistoryFilterForm(request.GET)
    page, problem = None, ""
    if form.is_valid():
        qs = selectors.action_request_history(user=user, **form.selector_filters())
        try:
            page = _page(qs, request.GET)
        except ValueError:
            problem = "That page link is damaged. Start again from the newest requests."
    else:
        problem = "Some filters could not be read; correct them below."
    rows = page.rows if page else []
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "problem": problem,
        "query": filter_query(request.GET),
        "older_cursor": encode_cursor(rows[-1].requested_at, rows[-1].pk) if rows else "",
        "newer_cursor": encode_cursor(rows[0].requested_at, rows[0].pk) if rows else "",
        "can_export": perms.can_view_audit(user),
    }
    return render(request, "offboarding/request_list.html", context, status=400 if problem else 200)
