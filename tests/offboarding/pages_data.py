"""Rows for the history, audit and dashboard pages, written straight to the database (fast, exact)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from offboarding.models import ActionRequest, StepRun

SYSTEMS = ("okta", "google", "msgraph", "zoom")
OFFBOARD_LOCKS = {
    "okta": "suspend",
    "google": "suspend",
    "msgraph": "disable",
    "zoom": "deactivate",
}


def history_request(
    requester: Any,
    *,
    at: datetime | None = None,
    state: str = ActionRequest.State.SUCCEEDED,
    kind: str = ActionRequest.Kind.OFFBOARD,
    login: str = "pat@example.com",
    name: str = "Pat Example",
    systems: tuple[str, ...] = SYSTEMS,
    approver_group: Any = None,
    approved_after: timedelta | None = timedelta(minutes=5),
    with_steps: bool = True,
    reason: str = "Left the company",
) -> ActionRequest:
    at = at or timezone.now()
    req = ActionRequest.objects.create(
        kind=kind,
        state=state,
        target_okta_id=f"00u{login.split('@')[0]}",
        target_login=login,
        target_name=name,
        target_email=login,
        systems=list(systems),
        reason=reason,
        requester=requester,
        approver_group=approver_group,
        fingerprint="f" * 64,
        requested_at=at,
        approved_at=at + approved_after if approved_after is not None else None,
    )
    if with_steps:
        StepRun.objects.bulk_create(
            StepRun(
                action_request=req,
                key=f"{system}.{OFFBOARD_LOCKS[system]}",
                position=i,
                system=system,
                operation=OFFBOARD_LOCKS[system],
                status=StepRun.Status.SUCCEEDED,
                finished_at=at + timedelta(minutes=6),
            )
            for i, system in enumerate(systems)
        )
    return req


def lock_step(
    req: ActionRequest,
    system: str,
    operation: str,
    *,
    after: timedelta,
    status: str = StepRun.Status.SUCCEEDED,
    position: int = 0,
) -> StepRun:
    """A step that finished `after` the request's approval."""
    base = req.approved_at or req.requested_at
    return StepRun.objects.create(
        action_request=req,
        key=f"{system}.{operation}",
        position=position,
        system=system,
        operation=operation,
        status=status,
        finished_at=base + after,
    )
