"""Claim a step for one worker: a conditional UPDATE to running with a lease, within the system's
concurrency limit."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections import registry
from connections.types import System
from offboarding.models import ActionRequest, StepRun
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


def slot_free(system: str, now: datetime | None = None) -> bool:
    """Whether a step of this system could be claimed now without passing its concurrency limit."""
    now = now or timezone.now()
    running = StepRun.objects.filter(system=system, status=S.RUNNING, lease_expires_at__gt=now)
    return running.count() < concurrency_limit(system)


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
        last_error="waiting for the API's rate limit to refill",
    )


def step_run_claim(*, step_id: int, owner: str, now: datetime | None = None) -> StepRun | None:
    """Take the step for this worker, or None (not claimable, not due, or no free slot)."""
    now = now or timezone.now()
    row = StepRun.objects.filter(pk=step_id).values("system", "status", "next_attempt_at").first()
    if row is None or row["status"] not in StepRun.CLAIMABLE:
        return None
    if row["next_attempt_at"] and row["next_attempt_at"] > now:
        return None
    paused = rate_paused_until(row["system"])
    if paused is not None:
        _defer_for_rate_limit(step_id, paused, now)
        return None
    limit = concurrency_limit(row["system"])
    # Claims of one system one at a time, so the concurrency limit holds (SQLite: one writer).
    with claim_transaction(row["system"]):
        running = StepRun.objects.filter(
            system=row["system"], status=S.RUNNING, lease_expires_at__gt=now
        ).count()
        claimable = StepRun.objects.filter(
            pk=step_id, action_request__state=ActionRequest.State.RUNNING
        ).filter(due(now))
        if running >= limit:
            claimable.transition(
                to=S.RETRYING,
                fence=StepRun.CLAIMABLE,
                at=now,
                waiting_for_slot=True,
                next_attempt_at=now + timedelta(seconds=random.uniform(1, 5)),  # noqa: S311
                enqueued_at=None,
            )
            return None
        claimed = claimable.transition(
            to=S.RUNNING,
            fence=StepRun.CLAIMABLE,
            at=now,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=settings.OFFBOARDING_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            waiting_for_slot=False,
            started_at=Coalesce(F("started_at"), now),
        )
    if claimed != 1:
        return None
    return StepRun.objects.select_related("action_request").get(pk=step_id)
