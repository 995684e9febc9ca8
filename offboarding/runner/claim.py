"""Claim a step for one worker: a conditional UPDATE to running with a lease, within the system's
concurrency limit."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections import registry
from connections.types import System
from offboarding.models import ActionRequest, StepRun

logger = logging.getLogger(__name__)

S = StepRun.Status


def _lock_system(system: str) -> None:
    """Serialise claims for one system so the concurrency limit holds (SQLite: IMMEDIATE does it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"offboarding:{system}"])


def _concurrency_limit(system: str) -> int:
    try:
        return max(1, int(registry.concurrency_limit(System(system))))
    except Exception:  # a missing or broken registry must not let calls run unbounded
        logger.exception("no concurrency limit for %s; using 1", system)
        return 1


def due(now: datetime) -> Q:
    """Steps with no next attempt time, or whose next attempt time has come."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def step_run_claim(*, step_id: int, owner: str, now: datetime | None = None) -> StepRun | None:
    """Take the step for this worker, or None (not claimable, not due, or no free slot)."""
    now = now or timezone.now()
    row = StepRun.objects.filter(pk=step_id).values("system", "status", "next_attempt_at").first()
    if row is None or row["status"] not in StepRun.CLAIMABLE:
        return None
    if row["next_attempt_at"] and row["next_attempt_at"] > now:
        return None
    limit = _concurrency_limit(row["system"])
    with transaction.atomic():
        _lock_system(row["system"])
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
