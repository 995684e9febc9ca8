"""Retrying one system of a finished request: its failed steps run again, with what waited on them."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from offboarding import permissions, playbooks, selectors
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidTransition, NotAllowed
from offboarding.models import ActionRequest, AuditEvent, StepRun, SystemChoices
from offboarding.progress import advance, enqueue_steps_on_commit
from offboarding.services.guards import ensure_mfa

RS = ActionRequest.State
S = StepRun.Status


def action_request_retry_system(
    *, action_request_id: int, actor: User, system: str, ip: str = ""
) -> list[int]:
    """Re-run the failed steps of one system (and what waited on them). Returns the step ids
    made ready. Only for a request that ended partially failed or failed.
    """
    now = timezone.now()
    with transaction.atomic():
        req = ActionRequest.objects.select_for_update().get(pk=action_request_id)
        if not permissions.can_retry_request(actor, req):
            raise NotAllowed("Only the requester or an approver of this request may retry it.")
        ensure_mfa(actor)
        if req.state not in (RS.PARTIALLY_FAILED, RS.FAILED) or req.started_at is None:
            raise InvalidTransition("Only a finished request with failed steps can be retried.")
        _refuse_when_twin_open(req)
        ids = _rerun_failed_steps(req, system, now)
        try:
            with transaction.atomic():
                ActionRequest.objects.filter(pk=req.pk).transition(
                    to=RS.RUNNING,
                    fence=req.state,
                    at=now,
                    finished_at=None,
                    state_note=f"Retry of {SystemChoices(system).label} by {actor.get_username()}.",
                )
        except IntegrityError:
            # A twin was submitted at this instant and committed first: the unique index says no.
            _refuse_when_twin_open(req)
            raise
        ready = ids + advance(req.pk, now)
        audit_record(
            action=AuditEvent.Action.STEP_RETRY_SYSTEM,
            actor=actor,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={"system": system, "steps": ids},
        )
        enqueue_steps_on_commit(ready)
    return ready


def _refuse_when_twin_open(req: ActionRequest) -> None:
    """Running again would make a second open request for the same action and person."""
    twin = selectors.open_twin(kind=req.kind, target_okta_id=req.target_okta_id, other_than=req.pk)
    if twin is not None:
        raise InvalidTransition(
            f"Request #{twin.pk} ({twin.get_kind_display().lower()} for this person) is "
            f"{twin.get_state_display().lower()}: retry once it has ended, or follow it there."
        )


def round_summary(step: StepRun, *, retried_at: datetime) -> dict[str, object]:
    """What a failed round of a step was, kept when a person retries it."""
    return {
        "round": step.round,
        "status": step.status,
        "attempts": step.attempts,
        "error": step.last_error,
        "started_at": step.started_at.isoformat() if step.started_at else None,
        "finished_at": step.finished_at.isoformat() if step.finished_at else None,
        "retried_at": retried_at.isoformat(),
    }


def _rerun_failed_steps(req: ActionRequest, system: str, now: datetime) -> list[int]:
    """The system's failed steps become ready again, and the steps cancelled because a dependency
    failed wait again. Returns the ids of the failed steps; raises when there are none."""
    ids = list(
        StepRun.objects.filter(action_request=req, system=system, status=S.FAILED).values_list(
            "pk", flat=True
        )
    )
    if not ids:
        raise InvalidTransition(f"No failed steps in {system} to retry.")
    # A failed verification reads the account back after the other failed steps run again: it
    # waits for them instead of running at once (issue 13).
    verify_ids: set[int] = set()
    if len(ids) > 1:
        verify_ids = set(
            StepRun.objects.filter(pk__in=ids, operation=playbooks.VERIFY_OPERATION).values_list(
                "pk", flat=True
            )
        )
    for step in StepRun.objects.filter(pk__in=ids):
        # The failed round stays on record (the page, the dashboard's failure count and the time
        # spent waiting for this retry read it); the new round gets a full attempt budget.
        again = {
            "round": step.round + 1,
            "earlier_rounds": [*step.earlier_rounds, round_summary(step, retried_at=now)],
            "attempts": 0,
            "crash_count": 0,
            "last_error": "",
            "detail": "",
            "outcome": "",
            "next_attempt_at": None,
            "finished_at": None,
            "started_at": None,
        }
        if step.pk in verify_ids:
            StepRun.objects.filter(pk=step.pk).transition(
                to=S.WAITING, fence=S.FAILED, at=now, **again
            )
        else:
            StepRun.objects.filter(pk=step.pk).transition(
                to=S.READY, fence=S.FAILED, at=now, enqueued_at=now, **again
            )
    StepRun.objects.filter(
        action_request=req, cancel_reason=StepRun.CancelReason.DEPENDENCY
    ).transition(
        to=S.WAITING, fence=S.CANCELLED, at=now, cancel_reason="", detail="", finished_at=None
    )
    return [pk for pk in ids if pk not in verify_ids]  # the read-backs wait for the others
