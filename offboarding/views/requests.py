"""Request pages: status (with its live fragment), new request, approvals, decisions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offboarding import permissions as perms
from offboarding import (
    playbooks,
    rounds,
    selectors,
    selectors_playbooks,
    selectors_waiting,
    services,
    timeline,
)
from offboarding.exceptions import OffboardingError, TargetLookupFailed
from offboarding.forms import ActionRequestForm, DecisionForm, RetrySystemForm
from offboarding.models import ActionRequest, StepRun, SystemChoices
from offboarding.offboard_history import history_annotate, last_offboard, repeat_offboard_words
from offboarding.selectors_bulk import batches_pending_for
from offboarding.selectors_verification import verifications_by_system
from offboarding.signals import client_ip
from offboarding.timefmt import duration_words
from offboarding.views.common import (
    get_request_for_user,
    recent_sign_in_required,
    require_recent_sign_in,
    signed_in_user,
)

# --- Request status: the page and its live fragment ---------------------------------------------

_SYSTEM_ORDER = ("failed", "retrying", "running", "ready", "waiting", "cancelled")


def _system_status(steps: list[StepRun]) -> str:
    """One word for a system's card: the most urgent step status, or succeeded/skipped."""
    statuses = {s.status for s in steps}
    for status in _SYSTEM_ORDER:
        if status in statuses:
            return status
    return "skipped" if statuses == {"skipped"} else "succeeded"


def _duration(step: StepRun) -> str:
    if not (step.started_at and step.finished_at):
        return ""
    seconds = (step.finished_at - step.started_at).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _lockout_words(req: ActionRequest, steps: list[StepRun]) -> str:
    """How long after approval the person was locked out of this system, and without the waits
    for a person to retry a failed round (issue 16)."""
    for step in steps:
        if not (rounds.is_lockout_step(req.kind, step) and step.status == StepRun.Status.SUCCEEDED):
            continue
        if not (req.approved_at and step.finished_at):
            return ""
        total = max(0.0, (step.finished_at - req.approved_at).total_seconds())
        waited = min(total, rounds.waited_for_retry(step))
        words = f"Locked out {duration_words(total)} after approval"
        if waited:
            words += (
                f" ({duration_words(total - waited)} without the {duration_words(waited)}"
                " waiting for a retry)"
            )
        return words + "."
    return ""


def _step_item(step: StepRun) -> dict[str, Any]:
    all_rounds = rounds.step_rounds(step)
    return {
        "step": step,
        "duration": _duration(step),
        "rounds": all_rounds,
        "earlier_rounds": all_rounds[:-1],
        "attempts_in_all": rounds.attempts_in_all(step),
    }


def _system_cards(request: HttpRequest, req: ActionRequest) -> list[dict[str, Any]]:
    may_retry = perms.can_retry_request(request.user, req) and req.state in (
        ActionRequest.State.PARTIALLY_FAILED,
        ActionRequest.State.FAILED,
    )
    cards = []
    verified = verifications_by_system(req)
    for group in selectors.steps_by_system(req):
        status = _system_status(group["steps"])
        cards.append(
            {
                **group,
                "status": status,
                "status_label": StepRun.Status(status).label,
                "steps": [_step_item(s) for s in group["steps"]],
                "lockout": _lockout_words(req, group["steps"]),
                "can_retry": may_retry and status == "failed",
                "verification": verified.get(group["system"]),
            }
        )
    return cards


def _live_context(request: HttpRequest, req: ActionRequest) -> dict[str, Any]:
    return {
        "req": req,
        "cards": _system_cards(request, req),
        "can_cancel": perms.can_cancel_request(request.user, req)
        and req.state in (*ActionRequest.NOT_STARTED_STATES, ActionRequest.State.RUNNING),
        "poll": not req.is_final,
        # In the live region, so an approval given meanwhile shows without a reload.
        "counted": services.approvals_counted(req),
        "can_download_evidence": perms.can_download_evidence(request.user, req),
        # Issue 16: who can approve, when it expires, reminding them (only while pending).
        "waiting": selectors_waiting.waiting_for_approval(req),
        "can_remind": perms.can_remind_approvers(request.user, req),
        "timeline": timeline.run_timeline(req, selectors.steps_by_system(req)),
    }


@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_request_for_user(request.user, pk)
    own = perms.is_requester(request.user, req)
    pending = req.state == ActionRequest.State.PENDING_APPROVAL
    context = {
        **_live_context(request, req),
        "approvals": list(req.approvals.all()),
        "can_decide": perms.can_decide_request(request.user, req) and pending,
        "own_pending": own and pending and perms.can_approve(request.user),
        "decision_form": DecisionForm(initial={"fingerprint": req.fingerprint}),
    }
    return render(request, "offboarding/request_detail.html", context)


@require_GET
def request_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the status page; HTTP 286 tells htmx to stop polling once final."""
    req = get_request_for_user(request.user, pk)
    response = render(request, "_partials/_step_cards.html", _live_context(request, req))
    if req.is_final:
        response.status_code = 286
    return response


# --- New request ----------------------------------------------------------------------------------


def _target_or_error(request: HttpRequest, okta_id: str) -> tuple[services.TargetInfo | None, int]:
    """The live target and 200, or None and the status saying why (404 no such person, 503)."""
    try:
        target = services.target_lookup(okta_id)
    except TargetLookupFailed as exc:
        messages.error(request, exc.message)
        return None, 503 if exc.retryable else 404
    services.record_user_view(
        actor=signed_in_user(request), target=target, purpose="new request", ip=client_ip(request)
    )
    return target, 200


def _preview(
    user: User, form: ActionRequestForm, kind: str, target: services.TargetInfo | None
) -> tuple[list[dict[str, Any]], str]:
    """The pre-flight plan for what the form says now, and why the target is off limits (if so)."""
    if target is None or not playbooks.is_kind(kind):
        return [], ""
    systems = form.system_values()
    options = None
    if form.is_bound and form.is_valid():
        systems, options = form.cleaned_data["systems"], form.chosen_options()
    blocked = ""
    try:
        services.scope_check(user=user, kind=kind, target=target)
    except OffboardingError as exc:
        blocked = exc.message
    try:
        plan = services.preflight_plan(
            kind=kind, systems=systems, options=options, target=target.as_target()
        )
    except OffboardingError as exc:
        return [], blocked or exc.message
    history_annotate(kind=kind, plan=plan, target_okta_id=target.okta_id)
    return plan, blocked


def _submit(request: HttpRequest, form: ActionRequestForm, okta_id: str) -> ActionRequest | None:
    try:
        return services.action_request_submit(
            requester=signed_in_user(request),
            target_okta_id=okta_id,
            kind=form.cleaned_data["kind"],
            systems=form.cleaned_data["systems"],
            options=form.chosen_options(),
            reason=form.cleaned_data["reason"],
            ticket=form.cleaned_data["ticket"],
            scheduled_for=form.cleaned_data["scheduled_for"],
            ip=client_ip(request),
            confirm_repeat=bool(form.cleaned_data.get("confirm_repeat")),
        )
    except OffboardingError as exc:
        form.add_error(None, exc.message)
        return None


def _locks_someone_out(kind: str) -> bool:
    """An offboard, or a custom playbook (issue 17) with a lock or deactivate step: asking for
    one needs a recent sign-in."""
    if kind in playbooks.PLAYBOOKS:
        return kind == ActionRequest.Kind.OFFBOARD
    operations = {(s.system, s.operation) for s in playbooks.get_playbook(kind).steps}
    return bool(operations & (playbooks.LOCKING_OPERATIONS | playbooks.DEACTIVATING_OPERATIONS))


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest, okta_id: str) -> HttpResponse:
    if not perms.can_request(request.user):
        raise PermissionDenied
    kind = request.POST.get("kind") or request.GET.get("kind") or ActionRequest.Kind.RESET_SESSIONS
    if not playbooks.is_kind(kind):
        kind = ActionRequest.Kind.RESET_SESSIONS
    if request.method == "POST" and _locks_someone_out(kind):
        require_recent_sign_in(request)
    form = ActionRequestForm(request.POST or None, kind=kind, initial={"kind": kind})
    earlier = last_offboard(okta_id) if kind == ActionRequest.Kind.OFFBOARD else None
    if earlier is not None:  # issue 13: an offboard again needs the box ticked
        form.repeat_of = repeat_offboard_words(earlier)
    if request.method == "POST" and form.is_valid():
        req = _submit(request, form, okta_id)
        if req is not None:
            messages.success(request, f"Request #{req.pk} made.")  # its state is shown live
            return redirect("offboarding:request-detail", pk=req.pk)
    target, status = _target_or_error(request, okta_id)
    plan, blocked = _preview(signed_in_user(request), form, kind, target)
    context = {
        "form": form,
        "target": target,
        "okta_id": okta_id,
        "kind": kind,
        "kind_label": playbooks.kind_label(kind),
        "kinds": selectors_playbooks.request_kind_choices(),
        "plan": plan,
        "blocked": blocked,
        "option_fields": form.option_fields(kind),
    }
    if target is not None and request.method == "POST":
        status = 400
    return render(request, "offboarding/request_new.html", context, status=status)


# --- Approvals and decisions ------------------------------------------------------------------------


def _approval_row(user: perms.AnyUser, req: ActionRequest) -> dict[str, Any]:
    own = perms.is_requester(user, req)
    why = ""
    if own:
        why = "You asked for this; another approver must decide."
    elif getattr(req, "approved_by_me", False):  # annotated by the selector
        why = "You approved this; it waits for another approver."
    can_decide = not why and perms.can_decide_request(user, req)
    return {
        "req": req,
        "own": own,
        "why": why,
        "can_decide": can_decide,
        "form": DecisionForm(initial={"fingerprint": req.fingerprint}, auto_id=f"id_%s_{req.pk}"),
    }


@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    if not perms.can_approve(request.user):
        raise PermissionDenied
    rows = [_approval_row(request.user, r) for r in selectors.approvals_in_scope_for(request.user)]
    batches = list(batches_pending_for(request.user))  # issue 15: decided on the batch's page
    waiting = sum(1 for r in rows if r["can_decide"]) + len(batches)
    context = {"rows": rows, "batches": batches, "waiting": waiting}
    return render(request, "offboarding/approvals.html", context)


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
                approver=signed_in_user(request),
                fingerprint=form.cleaned_data["fingerprint"],
                comment=form.cleaned_data["comment"],
                ip=client_ip(request),
            )
        else:
            req = services.action_request_reject(
                action_request_id=pk,
                approver=signed_in_user(request),
                comment=form.cleaned_data["comment"],
                ip=client_ip(request),
            )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        verb = "approved" if approve else "rejected"
        messages.success(request, f"You {verb} request #{pk}.")  # its state is shown live
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
    if perms.cancel_needs_recent_sign_in(req):
        require_recent_sign_in(request)
    try:
        services.action_request_cancel(
            action_request_id=pk,
            actor=signed_in_user(request),
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
    if not form.is_valid():
        messages.error(request, "Choose a system to retry.")
        return redirect("offboarding:request-detail", pk=pk)
    system = form.cleaned_data["system"]
    try:
        services.action_request_retry_system(
            action_request_id=pk,
            actor=signed_in_user(request),
            system=system,
            ip=client_ip(request),
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        label = SystemChoices(system).label
        messages.success(request, f"The failed {label} steps will run again.")
    return redirect("offboarding:request-detail", pk=pk)
