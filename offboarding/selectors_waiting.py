"""What a requester sees while a request waits for approval (issue 16): who can approve it, when
it expires, and when the approvers were last reminded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from offboarding.models import ActionRequest, Approval, AuditEvent
from offboarding.notifications import eligible_approvers

REMIND_EVERY = timedelta(minutes=15)


def last_reminder_at(action_request: ActionRequest) -> datetime | None:
    """When the approvers of this request were last reminded, if ever."""
    return (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.APPROVERS_REMINDED,
            object_type="actionrequest",
            object_id=str(action_request.pk),
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Waiting:
    approvers: list[User]
    group: str
    expires_at: datetime | None
    reminded_at: datetime | None
    remind_from: datetime | None

    @property
    def approver_names(self) -> str:
        return ", ".join(u.get_full_name() or u.get_username() for u in self.approvers)


def waiting_for_approval(action_request: ActionRequest) -> Waiting | None:
    """None unless the request is pending approval."""
    if action_request.state != ActionRequest.State.PENDING_APPROVAL:
        return None
    approved = set(
        Approval.objects.filter(
            action_request=action_request, decision=Approval.Decision.APPROVED
        ).values_list("approver_id", flat=True)
    )
    approvers = [u for u in eligible_approvers(action_request) if u.pk not in approved]
    reminded = last_reminder_at(action_request)
    again = reminded + REMIND_EVERY if reminded else None
    return Waiting(
        approvers=approvers,
        group=action_request.approver_group.name if action_request.approver_group else "",
        expires_at=action_request.expires_at,
        reminded_at=reminded,
        remind_from=again if again and again > timezone.now() else None,
    )
