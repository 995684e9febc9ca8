"""Pages for Connection admins (issue 14): Okta event policies, and the event hook's settings and
registration in Okta. Fetch, check the role, call a service, render or redirect."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offboarding import permissions as perms
from offboarding import selectors_hooks
from offboarding.exceptions import OffboardingError
from offboarding.forms_hooks import EventHookForm, EventPolicyForm
from offboarding.models import EventPolicy
from offboarding.services import hook_admin
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user


def _require_admin(request: HttpRequest) -> None:
    if not perms.can_manage_connections(request.user):
        raise PermissionDenied


def _okta_connection() -> Any:
    connection = selectors_hooks.okta_connection()
    if connection is None:
        raise Http404("Configure the Okta connection first.")
    return connection


def _base_url(request: HttpRequest) -> str:
    return settings.PORTAL_BASE_URL or request.build_absolute_uri("/").rstrip("/")


@require_GET
def event_policies(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    connection = selectors_hooks.okta_connection()
    context = {
        "policies": selectors_hooks.event_policy_list(),
        "events": selectors_hooks.hook_event_recent(),
        "status": selectors_hooks.event_hook_status(connection) if connection else None,
        "hook_url": selectors_hooks.hook_url(connection, _base_url(request)) if connection else "",
    }
    return render(request, "offboarding/event_policies.html", context)


@require_http_methods(["GET", "POST"])
def event_policy_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_admin(request)
    policy = selectors_hooks.event_policy_get(pk) if pk else None
    if pk and policy is None:
        raise Http404("No such policy.")
    initial: dict[str, Any] = {"active": True, "mode": EventPolicy.Mode.APPROVAL}
    if policy:
        initial = {f: getattr(policy, f) for f in EventPolicyForm.base_fields}
    form = EventPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            hook_admin.event_policy_save(
                actor=signed_in_user(request),
                data=form.cleaned_data,
                policy_id=policy.pk if policy else None,
                ip=client_ip(request),
            )
        except OffboardingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Policy “{form.cleaned_data['name']}” saved.")
            return redirect("offboarding:event-policies")
    return render(request, "offboarding/event_policy_form.html", {"form": form, "policy": policy})


@require_POST
def event_policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    policy = selectors_hooks.event_policy_get(pk)
    if policy is None:
        raise Http404("No such policy.")
    hook_admin.event_policy_delete(
        actor=signed_in_user(request), policy_id=policy.pk, ip=client_ip(request)
    )
    messages.success(request, f"Policy “{policy.name}” deleted.")
    return redirect("offboarding:event-policies")


@require_http_methods(["GET", "POST"])
def event_hook_settings(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    connection = _okta_connection()
    status = selectors_hooks.event_hook_status(connection)
    initial = {"header_name": status.hook.header_name if status.hook else "Authorization"}
    form = EventHookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data["secret"]
        if form.cleaned_data["generate"]:
            secret = hook_admin.new_hook_secret()
        try:
            hook_admin.event_hook_configure(
                actor=signed_in_user(request),
                connection=connection,
                header_name=form.cleaned_data["header_name"],
                secret=secret,
                ip=client_ip(request),
            )
        except OffboardingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Event hook settings saved.")
            return redirect("offboarding:event-policies")
    context = {"form": form, "status": status}
    return render(request, "offboarding/event_hook_form.html", context)


@require_POST
def event_hook_register(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    connection = _okta_connection()
    try:
        hook = hook_admin.event_hook_register(
            actor=signed_in_user(request),
            connection=connection,
            base_url=_base_url(request),
            ip=client_ip(request),
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        word = "and verified" if hook.verified_at else "(not verified yet)"
        messages.success(request, f"Event hook {hook.okta_hook_id} registered in Okta {word}.")
    return redirect("offboarding:event-policies")
