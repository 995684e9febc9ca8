"""Django admin: read-only views of requests, steps and the audit trail; delegations and protected
groups edited through their services so every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from offboarding.models import (
    ActionRequest,
    Approval,
    AuditEvent,
    Delegation,
    ProtectedGroup,
    StepAttempt,
    StepRun,
)
from offboarding.services import delegations as delegation_services


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class StepRunInline(admin.TabularInline):
    model = StepRun
    extra = 0
    can_delete = False
    fields = (
        "key",
        "status",
        "outcome",
        "attempts",
        "crash_count",
        "last_error",
        "lease_expires_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ApprovalInline(admin.TabularInline):
    model = Approval
    extra = 0
    can_delete = False
    readonly_fields = ("approver", "decision", "comment", "fingerprint", "at")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ActionRequest)
class ActionRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "target_login", "state", "requester", "requested_at")
    list_filter = ("kind", "state")
    search_fields = ("target_login", "target_email", "target_okta_id", "ticket")
    inlines = [StepRunInline, ApprovalInline]


@admin.register(StepAttempt)
class StepAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "step",
        "attempt_no",
        "method",
        "path",
        "status_code",
        "error_code",
        "stale",
        "at",
    )
    list_filter = ("stale",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_label", "action", "target", "ip")
    list_filter = ("action",)
    search_fields = ("target", "actor_label")


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "approver_group", "approvals_needed", "expiry_hours", "active")

    def save_model(self, request: Any, obj: Delegation, form: Any, change: bool) -> None:
        values = {
            f: form.cleaned_data[f] for f in form.cleaned_data if f in delegation_services._FIELDS
        }
        saved = delegation_services.delegation_save(
            actor=request.user, delegation_id=obj.pk if change else None, **values
        )
        obj.pk = saved.pk

    def delete_model(self, request: Any, obj: Delegation) -> None:
        delegation_services.delegation_delete(actor=request.user, delegation_id=obj.pk)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # one at a time, through delete_model, so each deletion is audited


@admin.register(ProtectedGroup)
class ProtectedGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "okta_group_id", "created_at")
    fields = ("okta_group_id", "name")

    def save_model(self, request: Any, obj: ProtectedGroup, form: Any, change: bool) -> None:
        group = delegation_services.protected_group_add(
            actor=request.user, okta_group_id=obj.okta_group_id, name=obj.name
        )
        obj.pk = group.pk

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return obj is None

    def delete_model(self, request: Any, obj: ProtectedGroup) -> None:
        delegation_services.protected_group_remove(
            actor=request.user, okta_group_id=obj.okta_group_id
        )
