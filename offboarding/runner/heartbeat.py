"""Worker heartbeats and queue age: what /healthz reads to see stalled workers.

Each django-q2 worker process starts a daemon thread when it spawns (the `post_spawn` signal) that
stamps one shared cache key every `OFFBOARDING_HEARTBEAT_SECONDS`: the time any worker last showed
life. A cluster whose workers all died, or hang, stops stamping it. A queue that no worker takes
from (a cluster wedged while its processes look alive) shows as a ready step waiting too long.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone

from offboarding.models import ActionRequest, StepRun
from offboarding.runner.claim import due
from offboarding.runner.shutdown import draining

logger = logging.getLogger(__name__)

BEAT_KEY = "offboarding:workers:last-beat"


def worker_beat(now: datetime | None = None) -> None:
    """Record that a worker is alive now."""
    cache.set(BEAT_KEY, (now or timezone.now()).timestamp(), timeout=None)


def last_worker_beat() -> datetime | None:
    """When any worker last showed life, or None if none ever has (or the cache was cleared)."""
    stamp = cache.get(BEAT_KEY)
    return None if stamp is None else datetime.fromtimestamp(float(stamp), tz=UTC)


def oldest_ready_since(now: datetime | None = None) -> datetime | None:
    """Since when the longest-waiting step has been ready for a worker (None: nothing waits).

    Counts steps that a worker could take now (ready, or a retry that is due) of running requests;
    steps waiting for a concurrency slot wait on purpose. A retry waits from its due time; a ready
    step from when it became ready (the sweeper's re-queue keeps that time in `next_attempt_at`).
    """
    now = now or timezone.now()
    waiting = (
        StepRun.objects.filter(
            status__in=StepRun.CLAIMABLE,
            waiting_for_slot=False,
            action_request__state=ActionRequest.State.RUNNING,
        )
        .filter(due(now))
        .aggregate(since=Min(Coalesce("next_attempt_at", "updated_at")))
    )
    since: datetime | None = waiting["since"]
    return since


def _beat_forever() -> None:
    while not draining():
        try:
            close_old_connections()
            worker_beat()
        except Exception:  # the cache or database is down: /healthz says so; keep trying
            logger.exception("worker heartbeat failed")
        time.sleep(settings.OFFBOARDING_HEARTBEAT_SECONDS)


def start_worker_heartbeat(**kwargs: Any) -> None:
    """`post_spawn` receiver: beat from this worker process for as long as it lives."""
    threading.Thread(target=_beat_forever, name="worker-heartbeat", daemon=True).start()
