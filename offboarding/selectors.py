"""Reads: each selector does its own select_related / prefetch_related, so no page runs N+1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from offboarding import permissions
from offboarding.models import ActionRequest, Approval, AuditEvent, StepAttempt, StepRun


def action_requests_visible_to(user: Any) -> QuerySet[ActionRequest]:
    """Auditors and superusers: all. Approvers: their approver groups' and their own. Else: own."""
    qs = ActionRequest.objects.select_related("requester", "approver_group")
    if getattr(user, "is_superuser", False) or permissions.can_view_audit(user):
        return qs
    mine = Q(requester_id=user.pk)
    if permissions.can_approve(user):
        mine |= Q(approver_group__in=user.groups.all())
    return qs.filter(mine)


def action_request_list(*, user: Any, state: str | None = None) -> QuerySet[ActionRequest]:
    qs = action_requests_visible_to(user)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def approvals_pending_for(user: Any) -> QuerySet[ActionRequest]:
    """Pending requests this user may decide and has not yet approved as they stand."""
    if not permissions.can_approve(user):
        return ActionRequest.objects.none()
    already = Approval.objects.filter(
        action_request=OuterRef("pk"), approver_id=user.pk, fingerprint=OuterRef("fingerprint")
    )
    return (
        ActionRequest.objects.select_related("requester", "approver_group")
        .filter(state=ActionRequest.State.PENDING_APPROVAL, approver_group__in=user.groups.all())
        .exclude(requester_id=user.pk)
        .exclude(Exists(already))
        .order_by("expires_at", "id")
    )


def action_request_detail(pk: int) -> ActionRequest:
    """One request with its steps, their attempts and the approvals, in four queries."""
    return (
        ActionRequest.objects.select_related("requester", "approver_group", "delegation")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=StepRun.objects.order_by("position", "id").prefetch_related(
                    Prefetch(
                        "attempt_records", queryset=StepAttempt.objects.order_by("attempt_no", "id")
                    )
                ),
            ),
            Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
        )
        .get(pk=pk)
    )


def steps_by_system(action_request: ActionRequest) -> list[dict[str, Any]]:
    """[{system, label, steps}] in playbook order, from prefetched steps."""
    groups: dict[str, dict[str, Any]] = {}
    for step in action_request.steps.all():
        entry = groups.setdefault(
            step.system, {"system": step.system, "label": step.system_label, "steps": []}
        )
        entry["steps"].append(step)
    return list(groups.values())


def audit_event_search(
    *,
    actor: Any = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor").order_by("-seq")
    if actor is not None:
        qs = qs.filter(actor=actor)
    if action:
        qs = qs.filter(action=action)
    if target:
        qs = qs.filter(target__icontains=target)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs
