"""The audit pages: events in keyset pages, the chain's state and its verification, for auditors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from offboarding import permissions as perms
from offboarding import selectors
from offboarding.audit import audit_chain_verify, audit_record
from offboarding.models import AuditChainHead, AuditEvent
from offboarding.signals import client_ip
from offboarding.views.history import DateRangeForm, filter_query

PAGE_SIZE = 100


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


def _cursor(value: str | None) -> tuple[int] | None:
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(value)
    return (int(value),)


def _page(qs: Any, request: HttpRequest) -> selectors.KeysetPage:
    newer = _cursor(request.GET.get("newer"))
    if newer:
        return selectors.keyset_page(qs, fields=("seq",), newer_than=newer, size=PAGE_SIZE)
    older = _cursor(request.GET.get("older"))
    return selectors.keyset_page(qs, fields=("seq",), older_than=older, size=PAGE_SIZE)


def chain_state() -> dict[str, Any]:
    """The last verification's result, in words, and how many events came after it."""
    last = selectors.audit_last_verification()
    if last is None:
        return {"checked": False}
    details = last.details or {}
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    intact = details.get("intact")
    if intact is None:  # recorded before the page kept the figures: read the words
        intact = str(details.get("result", "")).startswith("chain intact")
    return {
        "checked": True,
        "intact": bool(intact),
        "count": details.get("count"),
        "broken_at": details.get("broken_at"),
        "problem": details.get("problem", ""),
        "result": details.get("result", ""),
        "at": last.at,
        "by": last.actor_label or "the system",
        "since": max(0, head - last.seq),
    }


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    if not perms.can_view_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    page, problem = None, ""
    if form.is_valid():
        try:
            page = _page(selectors.audit_event_list(**form.selector_filters()), request)
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
        "chain": chain_state(),
        "can_verify": perms.can_verify_audit(request.user),
    }
    return render(request, "offboarding/audit_list.html", context, status=400 if problem else 200)


@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    if not perms.can_verify_audit(request.user):
        raise PermissionDenied
    report = audit_chain_verify()
    audit_record(
        action=AuditEvent.Action.AUDIT_VERIFIED,
        actor=request.user,
        ip=client_ip(request),
        details={
            "result": str(report),
            "intact": report.intact,
            "count": report.count,
            "broken_at": report.broken_at,
            "problem": report.problem,
        },
    )
    (messages.success if report.intact else messages.error)(request, str(report))
    return redirect("offboarding:audit")
