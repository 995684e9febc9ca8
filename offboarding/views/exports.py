"""Streamed exports (CSV, JSON lines) of the filtered history and audit trail, for auditors.

The rows are formatted by `offboarding.exports` (value tuples, or the database itself on PostgreSQL,
through a server-side cursor) and written a chunk at a time, so an export of any size holds one chunk
in memory. Every export is itself an audit event.
"""

from __future__ import annotations

from datetime import UTC
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
from offboarding.exports import (
    EVENT_COLUMNS,
    REQUEST_COLUMNS,
    Column,
    csv_lines,
    jsonl_lines,
)
from offboarding.forms import AuditFilterForm, HistoryFilterForm
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user
from offboarding.views.history import filter_query

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def _stream(
    qs: QuerySet[Any], columns: tuple[Column, ...], fmt: str, name: str
) -> StreamingHttpResponse:
    lines = csv_lines(qs, columns) if fmt == "csv" else jsonl_lines(qs, columns)
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
