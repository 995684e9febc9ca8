"""Claim a step for one worker: a conditional UPDATE to running with a lease, within the system's
concurrency limit."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from connections import registry
from connections.types import System
from offboarding.lifecycle import TransitionQuerySet
from offboarding.models import ActionRequest, StepRun
from offboarding.progress import enqueue_step
from offboarding.runner.locks import claim_transaction
from offboarding.runner.pacing import rate_paused_until

logger = logging.getLogger(__name__)

S = StepRun.Status


def concurrency_limit(system: str) -> int:
    """How many of this system's steps may run at once (at least 1)."""
    try:
        return max(1, int(registry.concurrency_limit(System(system))))
    except Exception:  # a missing or broken registry must not let calls run unbounded
        logger.exception("no concurrency limit for %s; using 1", system)
        return 1


def due(now: datetime) -> Q:
    """Steps with no next attempt time, or whose next attempt time has come."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def _defer_for_rate_limit(step_id: int, until: datetime, now: datetime) -> None:
    """The system's API bucket is empty until `until`: try then (no attempt is counted)."""
    spread = timedelta(seconds=random.uniform(0, 1))  # noqa: S311
    StepRun.objects.filter(pk=step_id).transition(
        to=S.RETRYING,
        fence=StepRun.CLAIMABLE,
        at=now,
        waiting_for_slot=False,
        next_attempt_at=until + spread,
        enqueued_at=None,
        followed=False,
        last_error="waiting for the API's rate limit to refill",
    )


class SlotBusy(Exception):
    """The step's system has no free slot, and the caller asked to be told rather than defer."""


def step_run_claim(
    *, step_id: int, owner: str, now: datetime | None = None, defer_when_full: bool = True
) -> StepRun | None:
    """Take the step for this worker, or None (not claimable, not due, or no free slot: the step
    is then deferred, or with `defer_when_full=False` SlotBusy is raised and nothing changes).

    The step (with its request) is read once, before the claim; the claim is fenced on its
    attempt count as read, so a step another worker claimed in between is not taken, and the
    returned row is that reading with the claim's changes applied (no second read)."""
    now = now or timezone.now()
    step = StepRun.objects.select_related("action_request").filter(pk=step_id).first()
    if step is None or not _may_claim(step, now):
        return None
    paused = rate_paused_until(step.system)
    if paused is not None:
        _defer_for_rate_limit(step_id, paused, now)
        return None
    limit = concurrency_limit(step.system)
    # Claims of one system one at a time, so the concurrency limit holds (SQLite: one writer).
    with claim_transaction(step.system):
        if _running(step.system, now) >= limit:
            if not defer_when_full:
                raise SlotBusy(step.system)
            _claimable(step_id, now).transition(
                to=S.RETRYING,
                fence=StepRun.CLAIMABLE,
                at=now,
                waiting_for_slot=True,
                next_attempt_at=now + timedelta(seconds=random.uniform(1, 5)),  # noqa: S311
                enqueued_at=None,
                followed=False,
            )
            return None
        return _take(step, owner, now)


FULL = "full"  # steps_claim: not claimed now (no free slot, or the claim failed); nothing changed


def steps_claim(
    *, step_ids: list[int], owner: Callable[[], str], now: datetime | None = None
) -> dict[int, StepRun | str | None]:
    """Claim several steps at once, as step_run_claim(defer_when_full=False) claims one: one read
    of them all, then per system one transaction (its lock, its running count) for all of that
    system's steps, instead of a read, a lock and a count per step (a level of eleven steps took
    ~10 ms a claim on a busy worker, so the last began ~100 ms after the first).

    Each id maps to its claimed row (claimed as `owner()`), FULL when its system had no free slot
    or its transaction failed (nothing changed; the caller tries again, waiting for a slot), or None
    (not claimable, not due, taken by another worker meanwhile, or deferred for the API's rate
    limit)."""
    now = now or timezone.now()
    rows = StepRun.objects.select_related("action_request").filter(pk__in=step_ids)
    found = {s.pk: s for s in rows}
    claimed: dict[int, StepRun | str | None] = dict.fromkeys(step_ids)
    by_system: dict[str, list[StepRun]] = {}
    for step_id in step_ids:
        step = found.get(step_id)
        if step is not None and _may_claim(step, now):
            by_system.setdefault(step.system, []).append(step)
    for system, steps in by_system.items():
        try:
            claimed.update(_claim_system_steps(system, steps, owner, now))
        except (
            Exception
        ):  # rolled back: nothing of this system's was claimed; the caller tries again
            logger.exception("%s: claiming %d steps together failed", system, len(steps))
            claimed.update(dict.fromkeys((s.pk for s in steps), FULL))
    return claimed


def _claim_system_steps(
    system: str, steps: list[StepRun], owner: Callable[[], str], now: datetime
) -> dict[int, StepRun | str | None]:
    paused = rate_paused_until(system)
    if paused is not None:
        for step in steps:
            _defer_for_rate_limit(step.pk, paused, now)
        return dict.fromkeys((s.pk for s in steps), None)
    limit = concurrency_limit(system)
    claimed: dict[int, StepRun | str | None] = {}
    with claim_transaction(system):
        free = limit - _running(system, now)
        for step in steps:
            if free <= 0:
                claimed[step.pk] = FULL
                continue
            taken = _take(step, owner(), now)
            claimed[step.pk] = taken
            free -= taken is not None
    return claimed


def _may_claim(step: StepRun, now: datetime) -> bool:
    """Claimable as read, and due."""
    if step.status not in StepRun.CLAIMABLE:
        return False
    return not (step.next_attempt_at and step.next_attempt_at > now)


def _running(system: str, now: datetime) -> int:
    return StepRun.objects.filter(system=system, status=S.RUNNING, lease_expires_at__gt=now).count()


def _claimable(step_id: int, now: datetime) -> TransitionQuerySet[StepRun]:
    return StepRun.objects.filter(
        pk=step_id, action_request__state=ActionRequest.State.RUNNING
    ).filter(due(now))


def _take(step: StepRun, owner: str, now: datetime) -> StepRun | None:
    """The claim itself, fenced on the attempt count as read; the row as read, claimed, or None.
    The caller holds the system's claim transaction and has seen a free slot."""
    claim = {
        "lease_owner": owner,
        "lease_expires_at": now + timedelta(seconds=settings.OFFBOARDING_LEASE_SECONDS),
        "attempts": step.attempts + 1,
        "waiting_for_slot": False,
        "followed": False,
        "started_at": step.started_at or now,
    }
    taken = (
        _claimable(step.pk, now)
        .filter(attempts=step.attempts)
        .transition(to=S.RUNNING, fence=StepRun.CLAIMABLE, at=now, **claim)
    )
    if taken != 1:
        return None
    for name, value in {**claim, "status": S.RUNNING, "updated_at": now}.items():
        setattr(step, name, value)
    return step


def wake_slot_waiters(system: str, limit: int = 1) -> None:
    """A slot freed up: enqueue the oldest step of this system that waits for one."""
    now = timezone.now()
    waiting = StepRun.objects.filter(
        system=system, status=S.RETRYING, waiting_for_slot=True
    ).order_by("next_attempt_at", "id")[:limit]
    for step in waiting:
        woken = StepRun.objects.filter(pk=step.pk, status=S.RETRYING, waiting_for_slot=True).amend(
            at=now, next_attempt_at=now, enqueued_at=now
        )
        if woken:
            enqueue_step(step.pk)
