"""History: every request the user may view, filtered, in keyset pages (no OFFSET)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from offboarding import selectors, selectors_review
from offboarding.forms import HistoryFilterForm

PAGE_SIZE = 50
CURSOR_PARAMS = ("older", "newer")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def _page(user: Any, filters: dict[str, Any], params: QueryDict) -> selectors.KeysetPage:
    older, newer = params.get("older"), params.get("newer")
    return selectors.action_request_history_page(
        user=user,
        filters=filters,
        older_than=decode_cursor(older) if older and not newer else None,
        newer_than=decode_cursor(newer) if newer else None,
        size=PAGE_SIZE,
    )


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not perms.can_browse_requests(user):
        raise PermissionDenied
    form = HistoryFilterForm(request.GET)
    page, problem = None, ""
    if form.is_valid():
        try:
            page = _page(user, form.selector_filters(), request.GET)
        except ValueError:
            problem = "That page link is damaged. Start again from the newest requests."
    else:
        problem = "Some filters could not be read; correct them below."
    rows = page.rows if page else []
    reviews = selectors_review.reviews_by_request([r.pk for r in rows])  # issue 14: badges
    for row in rows:
        row.after_review = reviews.get(row.pk)
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
