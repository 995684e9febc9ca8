"""Finding a person: the search page, its type-ahead results fragment, and the user view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from offboarding import permissions as perms
from offboarding import playbooks, selectors, services
from offboarding.exceptions import NotAllowed, OffboardingError, TargetLookupFailed
from offboarding.forms import SearchForm
from offboarding.models import ActionRequest
from offboarding.offboard_history import history_annotate, last_offboard, repeat_offboard_words
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user

PAGE_SIZE = 20
MIN_QUERY = 2


@dataclass
class SearchOutcome:
    """What the results fragment shows: rows, the next cursor, or an error in words; `unrecorded`
    is a type-ahead query not yet in the audit trail (the result links carry it)."""

    searched: bool = False
    users: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    error: str = ""
    unrecorded: str = ""


def _search(request: HttpRequest, form: SearchForm) -> SearchOutcome:
    if not form.is_valid():
        return SearchOutcome()
    query = form.cleaned_data["q"].strip()
    expression = form.cleaned_data["expression"].strip()
    if not expression and len(query) < MIN_QUERY:
        return SearchOutcome()
    typeahead = form.cleaned_data["typeahead"] and not expression and not form.cleaned_data["after"]
    found = services.person_search(
        actor=signed_in_user(request),
        query=query,
        expression=expression,
        after=form.cleaned_data["after"] or None,
        limit=PAGE_SIZE,
        ip=client_ip(request),
        typeahead=typeahead,
    )
    unrecorded = query if typeahead else ""
    return SearchOutcome(True, found.users, found.next_cursor, found.error, unrecorded)


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


def _action_verdicts(user: User, target: services.TargetInfo) -> list[dict[str, Any]]:
    """For each action the view offers: allowed, or why not (protection and scope, in words)."""
    verdicts = []
    kinds = [ActionRequest.Kind.RESET_SESSIONS, ActionRequest.Kind.OFFBOARD]
    if last_offboard(target.okta_id) is not None:  # issue 13: offered to undo the portal's offboard
        kinds.append(ActionRequest.Kind.REINSTATE)
    for kind in kinds:
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
    history_annotate(kind=ActionRequest.Kind.OFFBOARD, plan=plan, target_okta_id=target.okta_id)
    return plan


@require_GET
def user_detail(request: HttpRequest, okta_id: str) -> HttpResponse:
    if not perms.can_search_users(request.user):
        raise PermissionDenied
    try:
        target = services.target_lookup(okta_id)
    except TargetLookupFailed as exc:
        status = 503 if exc.retryable else 404
        failed = {"okta_id": okta_id, "error": exc.message}
        return render(request, "offboarding/user_detail.html", failed, status=status)
    actor, ip = signed_in_user(request), client_ip(request)
    found_by = SearchForm(request.GET)
    if found_by.is_valid() and len(found_by.cleaned_data["q"].strip()) >= MIN_QUERY:
        # Opened from type-ahead results: the search that found the person is recorded now.
        services.search_record(actor=actor, query=found_by.cleaned_data["q"].strip(), ip=ip)
    services.record_user_view(actor=actor, target=target, purpose="user view", ip=ip)
    protected = ""
    try:
        services.protection_check(target)
    except OffboardingError as exc:
        protected = exc.message
    earlier = last_offboard(target.okta_id)
    context: dict[str, Any] = {
        "offboarded": repeat_offboard_words(earlier) if earlier else "",
        "okta_id": okta_id,
        "target": target,
        "protected": protected,
        "verdicts": _action_verdicts(signed_in_user(request), target),
        "can_break_glass": perms.can_break_glass(request.user) and not protected,  # issue 14
        "systems": [] if protected else _systems_overview(target),  # issue 16: no plan
        "recent": selectors.action_requests_visible_to(request.user)
        .filter(target_okta_id=target.okta_id)
        .order_by("-created_at", "-id")[:10],
        "overview": services.person_overview(target=target),  # issue 16
    }
    return render(request, "offboarding/user_detail.html", context)
