"""Start a request: re-check scope and protection (against live Okta, or the approval's reading of
it moments ago), then make the first steps ready."""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from offboarding import notifications
from offboarding.audit import audit_record
from offboarding.exceptions import NotAllowed, TargetLookupFailed
from offboarding.models import ActionRequest, AuditEvent, StepRun
from offboarding.progress import advance, enqueue_steps_on_commit, finish_if_done
from offboarding.runner.chain import steps_run_here
from offboarding.runner.locks import request_transaction
from offboarding.runner.timings import longest_first
from offboarding.selectors import open_twin
from offboarding.targets import live_check_reuse, scope_check, target_lookup

logger = logging.getLogger(__name__)

RS = ActionRequest.State
_STARTABLE = (RS.APPROVED, RS.SCHEDULED)


def _refusal_for(req: ActionRequest, now: datetime) -> str | None:
    """None when the request may run now; otherwise why not, in words. Raises when Okta is down.

    The approval that just moved the request read Okta live; within a short window, and only
    for the request exactly as approved, its reading is reused instead of read again. Scope and
    protection are always checked again, against the portal's current rules.
    """
    target = live_check_reuse(req, now=now, max_age=settings.OFFBOARDING_CHECK_REUSE_SECONDS)
    if target is None:
        try:
            target = target_lookup(req.target_okta_id)
        except TargetLookupFailed as exc:
            if exc.retryable:
                raise
            return exc.message
    try:
        scope_check(user=req.requester, kind=req.kind, target=target)
    except NotAllowed as exc:
        return exc.message
    return None


def action_request_start(
    *, action_request_id: int, now: datetime | None = None, run_here: bool = False
) -> bool:
    """Approved/scheduled-and-due → running, after a live scope and protection check.

    Returns True when the request started. A refused request ends failed, saying why.
    Okta being unreachable leaves the request as it is; the sweeper tries again.
    The first steps are queued, or with `run_here` run in this task on threads (runner.chain).
    """
    now = now or timezone.now()
    req = ActionRequest.objects.select_related("requester").get(pk=action_request_id)
    if req.state not in _STARTABLE:
        return False
    if req.scheduled_for and req.scheduled_for > now:
        return False
    if _waits_for_twin(req, now):
        return False
    try:
        refusal = _refusal_for(req, now)
    except TargetLookupFailed as exc:
        logger.warning("request %s not started yet: %s", req.pk, exc.message)
        return False
    with request_transaction(action_request_id):
        req = ActionRequest.objects.get(pk=action_request_id)
        if req.state not in _STARTABLE:
            return False
        if refusal:
            _refuse(req, refusal, now)
            return False
        if _waits_for_twin(req, now) or not _to_running(req, now):
            return False
        audit_record(action=AuditEvent.Action.REQUEST_STARTED, obj=req, target=req.target_login)
        seen: list[StepRun] = []
        ready = longest_first(advance(req.pk, now, seen=seen, followed=run_here), seen)
        if not run_here:
            enqueue_steps_on_commit(ready)
        if not ready:  # nothing could run (every step skipped or cancelled): it ends here
            finish_if_done(req.pk, now)
    if run_here:
        steps_run_here(ready)
    return True


def _waits_for_twin(req: ActionRequest, now: datetime) -> bool:
    """A scheduled request whose time came while another request for the same action and person is
    open (an urgent one overtook it) waits for that one to end; the sweeper starts it afterwards."""
    if req.state != RS.SCHEDULED:
        return False  # an approved request is itself open: there is no twin (unique index)
    twin = open_twin(kind=req.kind, target_okta_id=req.target_okta_id, other_than=req.pk)
    if twin is None:
        return False
    note = f"Waits for request #{twin.pk} for the same person to end, then starts."
    if req.state_note != note:
        ActionRequest.objects.filter(pk=req.pk, state=RS.SCHEDULED).amend(at=now, state_note=note)
    return True


def _to_running(req: ActionRequest, now: datetime) -> bool:
    """Approved/scheduled → running; False when a twin submitted this instant holds the open slot."""
    try:
        with transaction.atomic():
            ActionRequest.objects.filter(pk=req.pk).transition(
                to=RS.RUNNING, fence=req.state, at=now, started_at=now, state_note=""
            )
    except IntegrityError:
        logger.info("request %s waits: another open request for the same person", req.pk)
        return False
    return True


def _refuse(req: ActionRequest, why: str, now: datetime) -> None:
    """The request may not run after all: its steps are cancelled and it ends failed, saying why."""
    StepRun.objects.filter(action_request=req).transition(
        to=StepRun.Status.CANCELLED,
        fence=StepRun.NOT_STARTED,
        at=now,
        cancel_reason=StepRun.CancelReason.REFUSED,
        detail="not run: request refused before running",
        finished_at=now,
    )
    ActionRequest.objects.filter(pk=req.pk).transition(
        to=RS.FAILED,
        fence=_STARTABLE,
        at=now,
        state_note=f"Refused before the first step: {why}",
        finished_at=now,
    )
    audit_record(
        action=AuditEvent.Action.REQUEST_REFUSED,
        obj=req,
        target=req.target_login,
        details={"why": why},
    )
    transaction.on_commit(functools.partial(notifications.notify_requester, req.pk, "failed"))
