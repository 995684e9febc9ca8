"""Policies for Connection admins: delegations (who may ask what for whom) and protected groups."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offboarding import permissions as perms
from offboarding import selectors, selectors_playbooks, services
from offboarding.exceptions import OffboardingError
from offboarding.forms import DelegationForm
from offboarding.models import Delegation
from offboarding.signals import client_ip
from offboarding.views.common import signed_in_user


def _require_admin(request: HttpRequest) -> None:
    if not perms.can_manage_delegations(request.user):
        raise PermissionDenied


def _get_delegation(pk: int) -> Delegation:
    delegation = selectors.delegation_get(pk)
    if delegation is None:
        raise Http404("No such delegation.")
    return delegation


@require_GET
def policies(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    delegations = selectors.delegation_list()
    offered = [k for d in delegations for k in d.allowed_actions or []]
    context = {
        "delegations": delegations,
        "protected": selectors.protected_group_list(),
        "kinds": dict(selectors_playbooks.delegation_kind_choices(also=offered)),
    }
    return render(request, "offboarding/policies.html", context)


@require_http_methods(["GET", "POST"])
def delegation_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_admin(request)
    delegation = _get_delegation(pk) if pk else None
    initial: dict[str, Any] = {"active": True}
    if delegation:
        initial = {f: getattr(delegation, f) for f in DelegationForm.base_fields}
        initial["target_group_ids"] = "\n".join(delegation.target_group_ids or [])
    form = DelegationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_save(
                actor=signed_in_user(request),
                delegation_id=delegation.pk if delegation else None,
                ip=client_ip(request),
                **form.cleaned_data,
            )
        except OffboardingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Delegation “{form.cleaned_data['name']}” saved.")
            return redirect("offboarding:policies")
    return render(
        request, "offboarding/delegation_form.html", {"form": form, "delegation": delegation}
    )


@require_POST
def protected_add(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    group_id = request.POST.get("okta_group_id", "").strip()
    if not group_id.isalnum():
        messages.error(request, "Enter an Okta group id such as 00g1abcd2EFGH3ij4x5.")
        return redirect("offboarding:policies")
    try:
        services.protected_group_add(
            actor=signed_in_user(request),
            okta_group_id=group_id,
            name=request.POST.get("name", "")[:200],
            ip=client_ip(request),
        )
    except OffboardingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Members of that group can no longer be targeted.")
    return redirect("offboarding:policies")


@require_POST
def protected_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    group = selectors.protected_group_list().filter(pk=pk).first()
    if group is None:
        raise Http404("No such protected group.")
    services.protected_group_remove(
        actor=signed_in_user(request), okta_group_id=group.okta_group_id, ip=client_ip(request)
    )
    messages.success(request, f"“{group}” is no longer protected.")
    return redirect("offboarding:policies")
