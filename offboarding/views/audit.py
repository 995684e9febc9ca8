"""The audit pages: events in keyset pages, the chain's state and its verification, for auditors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from offboarding import permissions as perms
from offboarding import selectors, selectors_audit_event, services
from offboarding.forms import AuditFilterForm
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user
from offboarding.views.history import filter_query

PAGE_SIZE = 25  # issue 16: 100 rows made a page 10,000 pixels tall


def _cursor(value: str | None) -> tuple[int] | None:
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(value)
    return (int(value),)


def _page(filters: dict[str, Any], request: HttpRequest) -> selectors.KeysetPage:
    newer = _cursor(request.GET.get("newer"))
    older = None if newer else _cursor(request.GET.get("older"))
    return selectors.audit_event_page(
        filters=filters, older_than=older, newer_than=newer, size=PAGE_SIZE
    )


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    if not perms.can_view_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    page, problem = None, ""
    if form.is_valid():
        try:
            page = _page(form.selector_filters(), request)
        except ValueError:
            problem = "That page link is damaged. Start again from the newest events."
    else:
        problem = "Some filters could not be read; correct them below."
    rows = page.rows if page else []
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "problem": problem,
        "query": filter_query(request.GET),
        "older_cursor": rows[-1].seq if rows else "",
        "newer_cursor": rows[0].seq if rows else "",
        "chain": selectors.audit_chain_state(),
        # Incremental from the signed verified-up-to mark: current on every load, and cheap.
        "current": services.audit_verify_current(),
        "checkpoint": services.audit_checkpoint_last(),
        "can_verify": perms.can_verify_audit(request.user),
    }
    return render(request, "offboarding/audit_list.html", context, status=400 if problem else 200)


@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    if not perms.can_verify_audit(request.user):
        raise PermissionDenied
    report = services.audit_chain_check(actor=signed_in_user(request), ip=client_ip(request))
    (messages.success if report.intact else messages.error)(request, str(report))
    return redirect("offboarding:audit")


@require_GET
def audit_event(request: HttpRequest, seq: int) -> HttpResponse:
    """Everything about one event: fields, details in words, its chain links, what it concerns."""
    if not perms.can_view_audit(request.user):
        raise PermissionDenied
    found = selectors_audit_event.audit_event_by_seq(seq)
    if found is None:
        raise Http404("No such audit event.")
    event = found.event
    concerns_request = event.object_type == "actionrequest" and event.object_id.isdigit()
    context = {"found": found, "e": event, "concerns_request": concerns_request}
    return render(request, "offboarding/audit_event.html", context)
