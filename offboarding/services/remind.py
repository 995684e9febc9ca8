"""Reminding the approvers of a request that waits for them (issue 16): rate limited, audited."""

from __future__ import annotations

import functools

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from offboarding import notifications, permissions
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidTransition, NotAllowed
from offboarding.models import ActionRequest, AuditEvent
from offboarding.selectors_waiting import REMIND_EVERY, last_reminder_at


def approvers_remind(*, action_request_id: int, actor: User, ip: str = "") -> int:
    """Mail the eligible approvers again (on commit) and audit APPROVERS_REMINDED. Returns how
    many approvers were asked. Only the requester, only while pending, at most every 15 minutes."""
    now = timezone.now()
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        if not permissions.can_remind_approvers(actor, req):
            raise NotAllowed("Only the person who asked for this request may remind its approvers.")
        if req.state != ActionRequest.State.PENDING_APPROVAL:
            raise InvalidTransition("Only a request waiting for approval has approvers to remind.")
        last = last_reminder_at(req)
        if last is not None and now - last < REMIND_EVERY:
            again = timezone.localtime(last + REMIND_EVERY)
            raise InvalidTransition(
                f"The approvers were reminded at {timezone.localtime(last):%H:%M}; "
                f"you can remind them again from {again:%H:%M}."
            )
        approvers = notifications.eligible_approvers(req)
        if not approvers:
            raise InvalidTransition(
                "No one can approve this request: its approver group has no active Approver "
                "besides you. Ask an administrator."
            )
        audit_record(
            action=AuditEvent.Action.APPROVERS_REMINDED,
            actor=actor,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={"approvers": [u.get_username() for u in approvers]},
        )
        transaction.on_commit(functools.partial(notifications.notify_approvers, req.pk))
    return len(approvers)
