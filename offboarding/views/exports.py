"""Streamed exports (CSV, JSON lines) of the filtered history and audit trail, for auditors.

Rows are read with `.iterator(chunk_size=...)` and written as they come, so an export of any size
holds one chunk in memory. Every export is itself an audit event.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from offboarding import selectors, services
from offboarding.forms import AuditFilterForm, HistoryFilterForm
from offboarding.models import ActionRequest, AuditEvent
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user
from offboarding.views.history import filter_query

CHUNK_SIZE = 500
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """The cell as text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def request_row(req: ActionRequest) -> dict[str, Any]:
    return {
        "id": req.pk,
        "action": req.kind,
        "state": req.state,
        "target_login": req.target_login,
        "target_name": req.target_name,
        "target_email": req.target_email,
        "target_okta_id": req.target_okta_id,
        "systems": list(req.systems),
        "requester": req.requester.get_username(),
        "approver_group": req.approver_group.name if req.approver_group else "",
        "reason": req.reason,
        "ticket": req.ticket,
        "state_note": req.state_note,
        "requested_at": _when(req.requested_at),
        "approved_at": _when(req.approved_at),
        "started_at": _when(req.started_at),
        "finished_at": _when(req.finished_at),
    }


def event_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": _when(event.at),
        "actor": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "target": event.target,
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[dict[str, Any]], header: list[str]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(
            [csv_safe(json.dumps(v) if isinstance(v, dict | list) else v) for v in row.values()]
        )


def _jsonl_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _stream(
    qs: QuerySet[Any],
    to_row: Callable[[Any], dict[str, Any]],
    header: list[str],
    fmt: str,
    name: str,
) -> StreamingHttpResponse:
    rows = (to_row(obj) for obj in qs.iterator(chunk_size=CHUNK_SIZE))
    lines = _csv_lines(rows, header) if fmt == "csv" else _jsonl_lines(rows)
    response = StreamingHttpResponse(lines, content_type=FORMATS[fmt])
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def _record_export(
    request: HttpRequest, *, what: str, fmt: str, form: forms.Form, rows: int
) -> None:
    services.export_record(
        actor=signed_in_user(request),
        what=what,
        fmt=fmt,
        filters={k: str(v) for k, v in form.cleaned_data.items() if v not in (None, "")},
        rows=rows,
        ip=client_ip(request),
    )


def _check(request: HttpRequest, fmt: str) -> None:
    if fmt not in FORMATS:
        raise Http404("No such export format.")
    if not perms.can_view_audit(request.user):
        raise PermissionDenied


@require_GET
def request_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    _check(request, fmt)
    form = HistoryFilterForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Nothing was exported: some filters could not be read.")
        return redirect(f"{reverse('offboarding:request-list')}?{filter_query(request.GET)}")
    qs = selectors.action_request_history(user=request.user, **form.selector_filters())
    _record_export(request, what="action_requests", fmt=fmt, form=form, rows=qs.count())
    return _stream(qs, request_row, _REQUEST_HEADER, fmt, "requests")


@require_GET
def audit_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    _check(request, fmt)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Nothing was exported: some filters could not be read.")
        return redirect(f"{reverse('offboarding:audit')}?{filter_query(request.GET)}")
    qs = selectors.audit_event_list(**form.selector_filters())
    # Up to the newest event now, so the export's own event (recorded next) is not in it.
    newest = qs.values_list("seq", flat=True).first()
    qs = qs.filter(seq__lte=newest or 0)
    _record_export(request, what="audit_events", fmt=fmt, form=form, rows=qs.count())
    return _stream(qs, event_row, _EVENT_HEADER, fmt, "audit")


_REQUEST_HEADER = [
    "id",
    "action",
    "state",
    "target_login",
    "target_name",
    "target_email",
    "target_okta_id",
    "systems",
    "requester",
    "approver_group",
    "reason",
    "ticket",
    "state_note",
    "requested_at",
    "approved_at",
    "started_at",
    "finished_at",
]
_EVENT_HEADER = [
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "target",
    "ip",
    "details",
    "prev_hash",
    "hash",
]
