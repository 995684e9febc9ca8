"""Request pages: list, detail, new request, approvals and the decisions on them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offboarding import permissions as perms
from offboarding import selectors, services
from offboarding.audit import audit_record
from offboarding.exceptions import OffboardingError, TargetLookupFailed
from offboarding.forms import ActionRequestForm, DecisionForm, RetrySystemForm
from offboarding.models import ActionRequest, AuditEvent
from offboarding.signals import client_ip
from offboarding.views.common import (
    get_request_for_user,
    recent_sign_in_required,
    require_recent_sign_in,
)


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (perms.can_request(user) or perms.can_approve(user) or perms.can_view_audit(user)):
        raise PermissionDenied
    state = request.GET.get("state") or None
    page = Paginator(selectors.action_request_list(user=user, state=state), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "offboarding/request_list.html",
        {"page": page, "states": ActionRequest.State.choices, "state": state},
    )


@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_request_for_user(request.user, pk)
    context = {
        "req": req,
        "systems": selectors.steps_by_system(req),
        "approvals": list(req.approvals.all()),
        "counted": services.approvals_counted(req),
        "can_decide": perms.can_decide_request(request.user, req)
        and req.state == ActionRequest.State.PENDING_APPROVAL,
        "can_cancel": perms.can_cancel_request(request.user, req)
        and req.state in (*ActionRequest.NOT_STARTED_STATES, ActionRequest.State.RUNNING),
        "can_retry": perms.can_retry_request(request.user, req)
        and req.state in (ActionRequest.State.PARTIALLY_FAILED, ActionRequest.State.FAILED),
        "failed_systems": sorted({s.system for s in req.steps.all() if s.status == "failed"}),
        "decision_form": DecisionForm(initial={"fingerprint": req.fingerprint}),
    }
    return render(request, "offboarding/request_detail.html", context)


def _target_or_error(request: HttpRequest, okta_id: str) -> Any:
    try:
        target = services.target_lookup(okta_id)
    except TargetLookupFailed as exc:
        messages.error(request, exc.message)
        return None
    audit_record(
        action=AuditEvent.Action.USER_VIEW,
        actor=request.user,
        object_type="okta_user",
        object_id=target.okta_id,
        target=target.login,
        ip=client_ip(request),
        details={"purpose": "new request"},
    )
    return target


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, okta_id: str) -> HttpResponse:
    if not perms.can_request(request.user):
        raise PermissionDenied
    kind = request.POST.get("kind") or request.GET.get("kind") or ActionRequest.Kind.RESET_SESSIONS
    if request.method == "POST" and kind == ActionRequest.Kind.OFFBOARD:
        require_recent_sign_in(request)
    form = ActionRequestForm(request.POST or None, kind=kind, initial={"kind": kind})
    if request.method == "POST" and form.is_valid():
        try:
            req = services.action_request_submit(
                requester=request.user,
                target_okta_id=okta_id,
                kind=form.cleaned_data["kind"],
                systems=form.cleaned_data["systems"],
                options=form.chosen_options(),
                reason=form.cleaned_data["reason"],
                ticket=form.cleaned_data["ticket"],
                scheduled_for=form.cleaned_data["scheduled_for"],
                ip=client_ip(request),
            )
        except OffboardingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Request #{req.pk} made: {req.get_state_display().lower()}.")
            return redirect("offboarding:request-detail", pk=req.pk)
    target = _target_or_error(request, okta_id)
    plan = []
    if target is not None and kind in ActionRequest.Kind.values:
        try:
            plan = services.preflight_plan(
                kind=kind,
                systems=[c for c, _ in form.fields["systems"].choices],
                options=None,
                target=target.as_target(),
            )
        except OffboardingError as exc:
            messages.error(request, exc.message)
    context = {
        "form": form,
        "target": target,
        "okta_id": okta_id,
        "kind": kind,
        "plan": plan,
        "option_fields": form.option_fields(kind) if kind in ActionRequest.Kind.values else [],
    }
    return render(request, "offboarding/request_new.html", context)


@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    if not perms.can_approve(request.user):
        raise PermissionDenied
    pending = selectors.approvals_pending_for(request.user)
    return render(request, "offboarding/approvals.html", {"pending": pending})


def _decide(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    req = get_request_for_user(request.user, pk)
    if not perms.can_decide_request(request.user, req):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The form was incomplete; open the request again.")
        return redirect("offboarding:request-detail", pk=pk)
    try:
        if approve:
            req = services.action_request_approve(
                action_request_id=pk,
                approver=request.user,
                fingerprint=form.cleaned_data["fingerprint"],
                comment=form.cleaned_data["comment"],
                ip=client_ip(request),
            )
        else:
            req = services.action_request_reject(
                action_request_id=pk,
                approver=request.user,
                comment=form.cleaned_data["comment"],
                ip=client_ip(request),
            )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Request #{pk} is now {req.get_state_display().lower()}.")
    return redirect("offboarding:request-detail", pk=pk)


@require_POST
@recent_sign_in_required
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=True)


@require_POST
def request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approve=False)


@require_POST
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_request_for_user(request.user, pk)
    if not perms.can_cancel_request(request.user, req):
        raise PermissionDenied
    try:
        services.action_request_cancel(
            action_request_id=pk,
            actor=request.user,
            comment=request.POST.get("comment", ""),
            ip=client_ip(request),
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Request #{pk} cancelled.")
    return redirect("offboarding:request-detail", pk=pk)


@require_POST
def request_retry(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_request_for_user(request.user, pk)
    if not perms.can_retry_request(request.user, req):
        raise PermissionDenied
    form = RetrySystemForm(request.POST)
    if form.is_valid():
        try:
            services.action_request_retry_system(
                action_request_id=pk,
                actor=request.user,
                system=form.cleaned_data["system"],
                ip=client_ip(request),
            )
        except OffboardingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The failed steps will run again.")
    return redirect("offboarding:request-detail", pk=pk)
