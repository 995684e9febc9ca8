"""Break-glass (a Responder runs reset sessions or an offboard's lock steps at once) and the
approvers' queue of runs to review afterwards (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offboarding import permissions as perms
from offboarding import playbooks, selectors_review, services
from offboarding.exceptions import OffboardingError
from offboarding.forms import BreakGlassForm, ReviewForm
from offboarding.models import ActionRequest
from offboarding.signals import client_ip
from offboarding.views.common import get_request_for_user, require_recent_sign_in, signed_in_user


def signed_in_at(request: HttpRequest) -> datetime | None:
    """The latest sign-in or re-authentication in this session (allauth's records), if any."""
    from allauth.account.internal.flows.login import get_authentication_records

    times = [float(r.get("at", 0)) for r in get_authentication_records(request, request.user)]
    return datetime.fromtimestamp(max(times), tz=UTC) if times else None


def _kind(request: HttpRequest) -> str:
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    return kind if kind in playbooks.BREAK_GLASS_KINDS else ActionRequest.Kind.RESET_SESSIONS


def _preview(request: HttpRequest, okta_id: str, kind: str) -> dict[str, Any]:
    """The live target, why it is off limits (if so) and the pre-flight plan, for the page."""
    try:
        target = services.target_lookup(okta_id)
    except OffboardingError as exc:
        return {"target": None, "problem": exc.message, "plan": []}
    user = signed_in_user(request)
    services.record_user_view(
        actor=user, target=target, purpose="break-glass", ip=client_ip(request)
    )
    blocked, plan = "", []
    try:
        services.scope_check(user=user, kind=kind, target=target)
    except OffboardingError as exc:
        blocked = exc.message
    options = playbooks.break_glass_options(kind, None)
    systems = list(playbooks.ALL_SYSTEMS)
    try:
        plan = services.preflight_plan(
            kind=kind, systems=systems, options=options, target=target.as_target()
        )
    except OffboardingError as exc:
        blocked = blocked or exc.message
    return {"target": target, "problem": "", "plan": plan, "blocked": blocked}


def _run(request: HttpRequest, form: BreakGlassForm, okta_id: str) -> ActionRequest | None:
    try:
        return services.action_request_break_glass(
            responder=signed_in_user(request),
            target_okta_id=okta_id,
            kind=form.cleaned_data["kind"],
            systems=form.cleaned_data["systems"],
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
            authenticated_at=signed_in_at(request),
            ip=client_ip(request),
        )
    except OffboardingError as exc:
        form.add_error(None, exc.message)
        return None


@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest, okta_id: str) -> HttpResponse:
    if not perms.can_break_glass(request.user):
        raise PermissionDenied
    kind = _kind(request)
    form = BreakGlassForm(request.POST or None, initial={"kind": kind})
    if request.method == "POST":
        require_recent_sign_in(request)
        if form.is_valid():
            req = _run(request, form, okta_id)
            if req is not None:
                messages.success(request, f"Break-glass #{req.pk} is running; approvers review it.")
                return redirect("offboarding:request-detail", pk=req.pk)
    context = {
        "form": form,
        "okta_id": okta_id,
        "kind": kind,
        "kind_label": ActionRequest.Kind(kind).label,
        "kinds": [(k, ActionRequest.Kind(k).label) for k in playbooks.BREAK_GLASS_KINDS],
        "note": playbooks.BREAK_GLASS_NOTE[kind],
        "has_totp": perms.has_totp(request.user),
        **_preview(request, okta_id, kind),
    }
    status = 400 if request.method == "POST" else (200 if context["target"] else 404)
    return render(request, "offboarding/break_glass.html", context, status=status)


@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    if not perms.can_review_runs(request.user):
        raise PermissionDenied
    waiting, done = selectors_review.review_queue_for(request.user)
    rows = [
        {
            "review": r,
            "req": r.action_request,
            "own": perms.is_requester(request.user, r.action_request),
            "can_review": perms.can_review_request(request.user, r.action_request),
            "form": ReviewForm(auto_id=f"id_%s_{r.action_request_id}"),
        }
        for r in waiting
    ]
    context = {
        "rows": rows,
        "done": done,
        "waiting": sum(1 for row in rows if row["can_review"]),
        "overdue": sum(1 for r in waiting if r.is_overdue()),
    }
    return render(request, "offboarding/reviews.html", context)


@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_request_for_user(request.user, pk)
    if not perms.can_review_request(request.user, req):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or flag.")
        return redirect("offboarding:reviews")
    try:
        review = services.review_record(
            action_request_id=pk,
            reviewer=signed_in_user(request),
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data["comment"],
            ip=client_ip(request),
        )
    except OffboardingError as exc:
        messages.error(request, f"Request #{pk}: {exc.message}")
    else:
        messages.success(request, f"Request #{pk}: {review.get_decision_display().lower()}.")
    return redirect("offboarding:reviews")
