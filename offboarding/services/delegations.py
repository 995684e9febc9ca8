"""Writes on delegations and protected groups, each with its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from offboarding import permissions, playbooks
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest, NotAllowed
from offboarding.models import AuditEvent, Delegation, ProtectedGroup
from offboarding.services.guards import ensure_mfa

_FIELDS = (
    "name",
    "team",
    "allowed_actions",
    "target_group_ids",
    "approver_group",
    "approvals_needed",
    "expiry_hours",
    "reset_sessions_without_approval",
    "active",
)


def _snapshot(d: Delegation) -> dict[str, Any]:
    return {
        "name": d.name,
        "team": d.team.name if d.team_id else None,
        "allowed_actions": list(d.allowed_actions or []),
        "target_group_ids": list(d.target_group_ids or []),
        "approver_group": d.approver_group.name if d.approver_group_id else None,
        "approvals_needed": d.approvals_needed,
        "expiry_hours": d.expiry_hours,
        "reset_sessions_without_approval": d.reset_sessions_without_approval,
        "active": d.active,
    }


def _validate(values: dict[str, Any]) -> None:
    unknown = {k for k in values.get("allowed_actions") or [] if not playbooks.is_kind(k)}
    if unknown:
        raise InvalidRequest(f"Unknown actions: {', '.join(sorted(unknown))}.")
    if int(values.get("approvals_needed", 1)) < 1:
        raise InvalidRequest("At least one approval is needed.")
    for key in ("team", "approver_group"):
        if key in values and not isinstance(values[key], Group):
            raise InvalidRequest(f"{key} must be a group.")


def _require_manager(actor: User, what: str) -> None:
    if not permissions.can_manage_delegations(actor):
        raise NotAllowed(f"Only connection admins may change {what}.")
    ensure_mfa(actor)


def delegation_save(
    *, actor: User, delegation_id: int | None = None, ip: str = "", **values: Any
) -> Delegation:
    """Create (no id) or update a delegation. Only connection admins and superusers."""
    _require_manager(actor, "delegations")
    unknown = set(values) - set(_FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _validate(values)
    with transaction.atomic():
        if delegation_id is None:
            before: dict[str, Any] = {}
            delegation = Delegation.objects.create(**values)
        else:
            delegation = Delegation.objects.select_for_update().get(pk=delegation_id)
            before = _snapshot(delegation)
            for key, value in values.items():
                setattr(delegation, key, value)
            delegation.save()
        after = _snapshot(delegation)
        audit_record(
            action=AuditEvent.Action.DELEGATION_CHANGED,
            actor=actor,
            obj=delegation,
            ip=ip,
            details={
                "change": "created" if not before else "updated",
                "fields": {k: after[k] for k in after if before.get(k) != after[k]},
            },
        )
    return delegation


def delegation_delete(*, actor: User, delegation_id: int, ip: str = "") -> None:
    _require_manager(actor, "delegations")
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation_id)
        snapshot = _snapshot(delegation)
        audit_record(
            action=AuditEvent.Action.DELEGATION_CHANGED,
            actor=actor,
            obj=delegation,
            ip=ip,
            details={"change": "deleted", "was": snapshot},
        )
        delegation.delete()


def protected_group_add(
    *, actor: User, okta_group_id: str, name: str = "", ip: str = ""
) -> ProtectedGroup:
    _require_manager(actor, "protected groups")
    if not okta_group_id.strip():
        raise InvalidRequest("An Okta group id is required.")
    with transaction.atomic():
        group, created = ProtectedGroup.objects.get_or_create(
            okta_group_id=okta_group_id.strip(), defaults={"name": name.strip()}
        )
        if created:
            audit_record(
                action=AuditEvent.Action.PROTECTED_GROUP_CHANGED,
                actor=actor,
                obj=group,
                ip=ip,
                details={
                    "change": "added",
                    "okta_group_id": group.okta_group_id,
                    "name": group.name,
                },
            )
    return group


def protected_group_remove(*, actor: User, okta_group_id: str, ip: str = "") -> bool:
    _require_manager(actor, "protected groups")
    with transaction.atomic():
        group = (
            ProtectedGroup.objects.select_for_update().filter(okta_group_id=okta_group_id).first()
        )
        if group is None:
            return False
        audit_record(
            action=AuditEvent.Action.PROTECTED_GROUP_CHANGED,
            actor=actor,
            obj=group,
            ip=ip,
            details={"change": "removed", "okta_group_id": group.okta_group_id, "name": group.name},
        )
        group.delete()
    return True
