"""Policies for Connection admins: delegations (who may ask what for whom) and protected groups."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offboarding import permissions as perms
from offboarding.exceptions import OffboardingError
from offboarding.models import ActionRequest, Delegation, ProtectedGroup
from offboarding.roles import Role
from offboarding.services import delegation_save, protected_group_add, protected_group_remove
from offboarding.signals import client_ip


class DelegationForm(forms.Form):
    name = forms.CharField(max_length=120)
    team = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"), help_text="The team whose members may ask."
    )
    allowed_actions = forms.MultipleChoiceField(
        choices=ActionRequest.Kind.choices, widget=forms.CheckboxSelectMultiple
    )
    target_group_ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Okta groups they may target",
        help_text="Okta group ids (00g…), one per line. Empty: everyone who is not protected.",
    )
    approver_group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        help_text="Members of this group who are Approvers decide these requests.",
    )
    approvals_needed = forms.IntegerField(min_value=1, max_value=5, initial=1)
    expiry_hours = forms.IntegerField(
        min_value=1, max_value=720, initial=72, help_text="Unapproved requests expire after this."
    )
    reset_sessions_without_approval = forms.BooleanField(
        required=False,
        help_text="Incident policy: reset sessions runs at once. Offboarding always needs approval.",
    )
    active = forms.BooleanField(required=False, initial=True)

    def clean_target_group_ids(self) -> list[str]:
        ids = [line.strip() for line in self.cleaned_data["target_group_ids"].splitlines()]
        bad = [i for i in ids if i and not i.isalnum()]
        if bad:
            raise forms.ValidationError(f"Not an Okta group id: {bad[0]!r}.")
        return [i for i in ids if i]

    def clean(self) -> dict:
        data = super().clean()
        group, needed = data.get("approver_group"), data.get("approvals_needed")
        if group and needed:
            role_members = get_user_model().objects.filter(groups__name=Role.APPROVER).values("pk")
            approvers = group.user_set.filter(is_active=True, pk__in=role_members).count()
            if approvers < needed:
                self.add_error(
                    "approvals_needed",
                    f"“{group.name}” has {approvers} active Approver(s); "
                    f"{needed} approvals could never be reached.",
                )
        return data


def _require_admin(request: HttpRequest) -> None:
    if not perms.can_manage_delegations(request.user):
        raise PermissionDenied


def _get_delegation(pk: int) -> Delegation:
    try:
        return Delegation.objects.select_related("team", "approver_group").get(pk=pk)
    except Delegation.DoesNotExist:
        raise Http404("No such delegation.") from None


@require_GET
def policies(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    context = {
        "delegations": Delegation.objects.select_related("team", "approver_group"),
        "protected": ProtectedGroup.objects.all(),
        "kinds": dict(ActionRequest.Kind.choices),
    }
    return render(request, "offboarding/policies.html", context)


@require_http_methods(["GET", "POST"])
def delegation_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_admin(request)
    delegation = _get_delegation(pk) if pk else None
    initial = {"active": True}
    if delegation:
        initial = {f: getattr(delegation, f) for f in DelegationForm.base_fields}
        initial["target_group_ids"] = "\n".join(delegation.target_group_ids or [])
    form = DelegationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            delegation_save(
                actor=request.user,
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
        protected_group_add(
            actor=request.user,
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
    group = ProtectedGroup.objects.filter(pk=pk).first()
    if group is None:
        raise Http404("No such protected group.")
    protected_group_remove(
        actor=request.user, okta_group_id=group.okta_group_id, ip=client_ip(request)
    )
    messages.success(request, f"“{group}” is no longer protected.")
    return redirect("offboarding:policies")
