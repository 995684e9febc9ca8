"""Finding a person: the search page, its type-ahead results fragment, and the user view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from connections.types import ConnectorError
from offboarding import permissions as perms
from offboarding import playbooks, selectors, services
from offboarding.audit import audit_record
from offboarding.exceptions import NotAllowed, OffboardingError, TargetLookupFailed
from offboarding.forms import SearchForm
from offboarding.models import ActionRequest, AuditEvent
from offboarding.services.targets import registry as connector_registry
from offboarding.signals import client_ip
from offboarding.views.common import record_user_view

PAGE_SIZE = 20
MIN_QUERY = 2


@dataclass
class SearchOutcome:
    """What the results fragment shows: rows, the next cursor, or an error in words."""

    searched: bool = False
    users: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    error: str = ""


def _okta_error_words(exc: ConnectorError, *, expression: bool) -> str:
    if expression and exc.status == 400:
        return f"Okta did not accept the search expression: {exc.message}"
    if exc.code == "not_configured":
        return "Okta is not connected yet, so people cannot be searched. Ask a connection admin."
    return f"Okta could not be reached, so nobody can be searched right now: {exc.message}"


def _row(user: dict[str, Any]) -> dict[str, Any]:
    profile = user.get("profile") or {}
    name = " ".join(p for p in (profile.get("firstName"), profile.get("lastName")) if p)
    return {
        "id": user.get("id", ""),
        "name": name,
        "login": profile.get("login", ""),
        "email": profile.get("email", ""),
        "department": profile.get("department", ""),
        "status": str(user.get("status", "")),
    }


def _search(request: HttpRequest, form: SearchForm) -> SearchOutcome:
    if not form.is_valid():
        return SearchOutcome()
    query = form.cleaned_data["q"].strip()
    expression = form.cleaned_data["expression"].strip()
    if not expression and len(query) < MIN_QUERY:
        return SearchOutcome()
    outcome = SearchOutcome(searched=True)
    try:
        users, outcome.next_cursor = connector_registry().okta_search_users(
            query="" if expression else query,
            expression=expression,
            after=form.cleaned_data["after"] or None,
            limit=PAGE_SIZE,
        )
        outcome.users = [_row(u) for u in users]
    except ConnectorError as exc:
        outcome.error = _okta_error_words(exc, expression=bool(expression))
    audit_record(
        action=AuditEvent.Action.USER_SEARCH,
        actor=request.user,
        ip=client_ip(request),
        details={"query": query, "expression": expression, "failed": bool(outcome.error)},
    )
    return outcome


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    if not perms.can_search_users(request.user):
        raise PermissionDenied
    form = SearchForm(request.GET or None)
    context = {"form": form, "result": _search(request, form), "min_query": MIN_QUERY}
    return render(request, "offboarding/search.html", context)


@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    if not perms.can_search_users(request.user):
        raise PermissionDenied
    form = SearchForm(request.GET)
    context = {"form": form, "result": _search(request, form), "min_query": MIN_QUERY}
    return render(request, "_partials/_search_results.html", context)


def _action_verdicts(user: Any, target: services.TargetInfo) -> list[dict[str, Any]]:
    """For each action the view offers: allowed, or why not (protection and scope, in words)."""
    verdicts = []
    for kind in (ActionRequest.Kind.RESET_SESSIONS, ActionRequest.Kind.OFFBOARD):
        verdict: dict[str, Any] = {"kind": kind.value, "label": kind.label, "allowed": False}
        if not perms.can_request(user):
            verdict["why"] = "Only Helpdesk and Approvers may request actions."
        else:
            try:
                services.scope_check(user=user, kind=kind.value, target=target)
                verdict["allowed"] = True
            except NotAllowed as exc:
                verdict["why"] = exc.message
        verdicts.append(verdict)
    return verdicts


def _systems_overview(target: services.TargetInfo) -> list[dict[str, Any]]:
    """The offboard pre-flight per system, with the reset-sessions steps alongside."""
    systems = list(playbooks.ALL_SYSTEMS)
    plan = services.preflight_plan(
        kind=ActionRequest.Kind.OFFBOARD, systems=systems, options=None, target=target.as_target()
    )
    reset = playbooks.build_steps(ActionRequest.Kind.RESET_SESSIONS, systems=systems, options=None)
    reset_labels: dict[str, list[str]] = {}
    for step in reset:
        reset_labels.setdefault(step.system, []).append(step.label)
    for entry in plan:
        entry["reset_steps"] = reset_labels.get(entry["system"], [])
    return plan


@require_GET
def user_detail(request: HttpRequest, okta_id: str) -> HttpResponse:
    if not perms.can_search_users(request.user):
        raise PermissionDenied
    try:
        target = services.target_lookup(okta_id)
    except TargetLookupFailed as exc:
        status = 503 if exc.retryable else 404
        context = {"okta_id": okta_id, "error": exc.message}
        return render(request, "offboarding/user_detail.html", context, status=status)
    record_user_view(request, target, "user view")
    protected = ""
    try:
        services.protection_check(target)
    except OffboardingError as exc:
        protected = exc.message
    context = {
        "okta_id": okta_id,
        "target": target,
        "protected": protected,
        "verdicts": _action_verdicts(request.user, target),
        "systems": _systems_overview(target),
        "recent": selectors.action_requests_visible_to(request.user)
        .filter(target_okta_id=target.okta_id)
        .order_by("-created_at", "-id")[:5],
    }
    return render(request, "offboarding/user_detail.html", context)
