"""Stopping a request: the requester or an eligible approver cancels the steps not yet started."""

from __future__ import annotations

import functools
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from offboarding import notifications, permissions
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidTransition, NotAllowed
from offboarding.models import ActionRequest, AuditEvent, StepRun
from offboarding.progress import finish_if_done
from offboarding.services.guards import ensure_mfa

RS = ActionRequest.State


def action_request_cancel(
    *, action_request_id: int, actor: User, comment: str = "", ip: str = ""
) -> ActionRequest:
    """Requester or an eligible approver stops a request: steps not yet started are cancelled.

    Before running the request ends cancelled; while running, steps already running finish and
    the request's state is then derived from its steps.
    """
    now = timezone.now()
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        if not permissions.can_cancel_request(actor, req):
            raise NotAllowed("Only the requester or an approver of this request may cancel it.")
        ensure_mfa(actor)
        if req.state not in (*ActionRequest.NOT_STARTED_STATES, RS.RUNNING):
            raise InvalidTransition(
                f"A {req.get_state_display().lower()} request cannot be cancelled."
            )
        cancelled = _cancel_steps_not_started(req, actor, now)
        note = f"Cancelled by {actor.get_username()}" + (
            f": {comment.strip()}" if comment.strip() else "."
        )
        if req.state == RS.RUNNING:
            ActionRequest.objects.filter(pk=req.pk).amend(at=now, state_note=note)
            finish_if_done(req.pk, now)
        else:
            ActionRequest.objects.filter(pk=req.pk).transition(
                to=RS.CANCELLED, fence=req.state, at=now, state_note=note, finished_at=now
            )
            transaction.on_commit(
                functools.partial(notifications.notify_requester, req.pk, "cancelled")
            )
        audit_record(
            action=AuditEvent.Action.REQUEST_CANCELLED,
            actor=actor,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={"steps_cancelled": cancelled, "was": req.state, "comment": comment.strip()},
        )
    req.refresh_from_db()
    return req


def _cancel_steps_not_started(req: ActionRequest, actor: User, now: datetime) -> int:
    return StepRun.objects.filter(action_request=req).transition(
        to=StepRun.Status.CANCELLED,
        fence=StepRun.NOT_STARTED,
        at=now,
        cancel_reason=StepRun.CancelReason.USER,
        detail=f"not run: cancelled by {actor.get_username()}",
        lease_owner="",
        finished_at=now,
    )
