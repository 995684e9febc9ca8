"""Streamed exports (CSV, JSON lines) of the filtered history and audit trail, for auditors.

Rows are read as value tuples (no model instances) with `.iterator(chunk_size=...)`, a server-side
cursor on PostgreSQL, and written one chunk at a time, so an export of any size holds one chunk in
memory. Every export is itself an audit event.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
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
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user
from offboarding.views.history import filter_query

CHUNK_SIZE = 5000
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """The cell as text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _text(value: str | None) -> str:
    return value or ""


def _same(value: Any) -> Any:
    return value


def _csv_json(value: Any) -> str:
    return csv_safe(json.dumps(value))


@dataclass(frozen=True)
class Column:
    """One exported column: its header, the field it is read from, and how each format writes it."""

    header: str
    field: str
    to_json: Callable[[Any], Any] = _same
    to_csv: Callable[[Any], Any] = csv_safe


_INT = {"to_csv": _same}  # csv writes an int as str() does; ids are never formula-like
_WHEN = {"to_json": _when, "to_csv": _when}
_JSON = {"to_csv": _csv_json}

REQUEST_COLUMNS = (
    Column("id", "id", **_INT),
    Column("action", "kind"),
    Column("state", "state"),
    Column("target_login", "target_login"),
    Column("target_name", "target_name"),
    Column("target_email", "target_email"),
    Column("target_okta_id", "target_okta_id"),
    Column("systems", "systems", to_json=list, **_JSON),
    Column("requester", "requester__username"),
    Column("approver_group", "approver_group__name", to_json=_text),
    Column("reason", "reason"),
    Column("ticket", "ticket"),
    Column("state_note", "state_note"),
    Column("requested_at", "requested_at", **_WHEN),
    Column("approved_at", "approved_at", **_WHEN),
    Column("started_at", "started_at", **_WHEN),
    Column("finished_at", "finished_at", **_WHEN),
)
EVENT_COLUMNS = (
    Column("seq", "seq", **_INT),
    Column("at", "at", **_WHEN),
    Column("actor", "actor_label"),
    Column("action", "action"),
    Column("object_type", "object_type"),
    Column("object_id", "object_id"),
    Column("target", "target"),
    Column("ip", "ip"),
    Column("details", "details", **_JSON),
    Column("prev_hash", "prev_hash"),
    Column("hash", "hash"),
)


def export_chunks(qs: QuerySet[Any], columns: tuple[Column, ...]) -> Iterator[list[tuple]]:
    """The rows as value tuples, CHUNK_SIZE at a time, through a server-side cursor on PostgreSQL."""
    rows = qs.values_list(*(c.field for c in columns)).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        yield chunk


def csv_lines(chunks: Iterable[list[tuple]], columns: tuple[Column, ...]) -> Iterator[str]:
    """The header, then one string per chunk of rows (a write per chunk, not per row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    yield buffer.getvalue()
    convert = [c.to_csv for c in columns]
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[f(v) for f, v in zip(convert, row, strict=True)] for row in chunk])
        yield buffer.getvalue()


def jsonl_lines(chunks: Iterable[list[tuple]], columns: tuple[Column, ...]) -> Iterator[str]:
    """One JSON object a line, one string per chunk of rows."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    headers = [c.header for c in columns]
    convert = [c.to_json for c in columns]
    for chunk in chunks:
        yield "".join(
            encode(
                dict(zip(headers, [f(v) for f, v in zip(convert, row, strict=True)], strict=True))
            )
            + "\n"
            for row in chunk
        )


def _stream(
    qs: QuerySet[Any], columns: tuple[Column, ...], fmt: str, name: str
) -> StreamingHttpResponse:
    chunks = export_chunks(qs, columns)
    lines = csv_lines(chunks, columns) if fmt == "csv" else jsonl_lines(chunks, columns)
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
    return _stream(qs, REQUEST_COLUMNS, fmt, "requests")


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
    return _stream(qs, EVENT_COLUMNS, fmt, "audit")
