"""Start a request: re-check scope and protection (against live Okta, or the approval's reading of
it moments ago), then make the first steps ready."""

from __future__ import annotations

import functools
import logging
from datetime import datetime

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
from offboarding.targets import TargetInfo, scope_check, target_lookup

logger = logging.getLogger(__name__)

RS = ActionRequest.State
_STARTABLE = (RS.APPROVED, RS.SCHEDULED)


def _refusal_for(req: ActionRequest) -> str | None:
    """None when the request may run now; otherwise why not, in words. Raises when Okta is down.

    A start task reads Okta live: an approval with a fresh reading starts the request itself
    (`action_request_start_now`), so a request that comes here was approved on an older reading,
    released by a bulk batch, scheduled, or brought back by the sweeper. Scope and protection are
    checked against the portal's current rules.
    """
    try:
        target = target_lookup(req.target_okta_id)
    except TargetLookupFailed as exc:
        if exc.retryable:
            raise
        return exc.message
    return _scope_refusal(req, target)


def _scope_refusal(req: ActionRequest, target: TargetInfo) -> str | None:
    """None when the request's requester may act on this person now; otherwise why not."""
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
        refusal = _refusal_for(req)
    except TargetLookupFailed as exc:
        logger.warning("request %s not started yet: %s", req.pk, exc.message)
        return False
    with request_transaction(action_request_id):
        req = ActionRequest.objects.get(pk=action_request_id)  # as it is under the lock
        ready = _start_locked(req, refusal, now, run_here=run_here)
    if ready is None:
        return False
    if run_here:
        steps_run_here(ready)
    return True


def action_request_start_now(
    *, req: ActionRequest, target: TargetInfo, now: datetime, scope_checked: bool = False
) -> bool:
    """Approved → running inside the caller's transaction, which holds the request (its row
    lock, or it made the request) and read the person live moments ago (`target`): the approval
    starts the request itself instead of queuing a start task that would check the same reading
    again (issue 10). Scope and protection are checked against the portal's rules as they are
    now, in this transaction (unless the caller did, `scope_checked`); a refusal ends the request
    failed, saying why, as a start task's would. The first steps are queued on commit, one task
    each, for the idle workers to claim side by side. Returns True when the request started."""
    refusal = None if scope_checked else _scope_refusal(req, target)
    if _start_locked(req, refusal, now, run_here=False) is None:
        return False
    req.state, req.started_at, req.state_note = RS.RUNNING, now, ""
    return True


def _start_locked(
    req: ActionRequest, refusal: str | None, now: datetime, *, run_here: bool
) -> list[int] | None:
    """The start itself, under the request's lock (`req` as read under it): the ids of the first
    steps made ready (queued on commit unless `run_here`), or None when it did not start."""
    if req.state not in _STARTABLE:
        return None
    if refusal:
        _refuse(req, refusal, now)
        return None
    if _waits_for_twin(req, now) or not _to_running(req, now):
        return None
    audit_record(action=AuditEvent.Action.REQUEST_STARTED, obj=req, target=req.target_login)
    seen: list[StepRun] = []
    ready = longest_first(advance(req.pk, now, seen=seen, followed=run_here), seen)
    if not run_here:
        enqueue_steps_on_commit(ready)
    if not ready:  # nothing could run (every step skipped or cancelled): it ends here
        finish_if_done(req.pk, now)
    return ready


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
        # An approved request holds the open slot already: no twin can meet it, so no savepoint.
        with transaction.atomic(savepoint=req.state != RS.APPROVED):
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
