"""Run a system's chain in one task: a step, then the same-system steps it made ready, on threads.

An offboard's lock step (Okta suspend) is followed by several revoke steps that wait only for it.
Queuing each of them would cost a broker hop and a free worker per step; running them here, each on
its own thread (the work is waiting on the network), starts them the moment the lock is recorded.
Every step still goes through claim → call → fenced complete, so the concurrency limit, leases,
probes and the audit trail are exactly those of a queued step. Followers are ready rows with
`enqueued_at` set: if this task dies before running them, the sweeper queues them again.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from offboarding.runner.execute import step_run_execute

logger = logging.getLogger(__name__)


def step_chain_execute(*, step_id: int) -> str:
    """Run one step, then the same-system steps it made ready (recursively). Returns what
    happened to the first step, like step_run_execute."""
    follow: list[int] = []
    outcome = step_run_execute(step_id=step_id, follow=follow)
    _run_followers(follow)
    return outcome


def _run_followers(step_ids: list[int]) -> None:
    threads = min(settings.OFFBOARDING_STEP_THREADS, len(step_ids))
    # Inside an open transaction (a caller's, or a test's) other threads could not see the rows
    # just made ready: run them here, one after another.
    if threads <= 1 or connection.in_atomic_block:
        for step_id in step_ids:
            _follow(step_id)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="step") as pool:
        list(pool.map(_follow_in_thread, step_ids))


def _follow(step_id: int) -> str:
    try:
        return step_chain_execute(step_id=step_id)
    except Exception:  # the step stays ready (or its lease runs out): the sweeper brings it back
        logger.exception("step %s: chained run failed; left for the sweeper", step_id)
        return "error"


def _follow_in_thread(step_id: int) -> str:
    try:
        return _follow(step_id)
    finally:
        connection.close()  # each thread has its own connection; don't leave it open
