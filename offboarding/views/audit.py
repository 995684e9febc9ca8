"""The audit pages: events and chain verification, for auditors."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from offboarding import permissions as perms
from offboarding import selectors
from offboarding.audit import audit_chain_verify, audit_record
from offboarding.models import AuditEvent
from offboarding.signals import client_ip


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    if not perms.can_view_audit(request.user):
        raise PermissionDenied
    events = selectors.audit_event_search(
        action=request.GET.get("action") or None, target=request.GET.get("target") or None
    )
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request, "offboarding/audit_list.html", {"page": page, "actions": AuditEvent.Action.choices}
    )


@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    if not perms.can_verify_audit(request.user):
        raise PermissionDenied
    report = audit_chain_verify()
    audit_record(
        action=AuditEvent.Action.AUDIT_VERIFIED,
        actor=request.user,
        ip=client_ip(request),
        details={"result": str(report)},
    )
    (messages.success if report.intact else messages.error)(request, str(report))
    return redirect("offboarding:audit")
