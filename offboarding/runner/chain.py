"""Run ready steps inside the task that made them ready, on threads, instead of queuing each one.

A start makes a request's first steps ready (one per system); an offboard's lock step (Okta
suspend) then makes several revoke steps ready that wait only for it. Queuing each of them costs a
broker hop and a free worker per step; running them here, each on its own thread (the work is
waiting on the network), starts them the moment they are recorded as ready. Every step still goes
through claim → call → fenced complete, so the concurrency limit, leases, probes and the audit trail
are exactly those of a queued step. The steps are ready rows with `enqueued_at` set: if this task
dies before running them, the sweeper queues them again (`OFFBOARDING_REQUEUE_AFTER`).
"""

from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from offboarding.models import StepRun
from offboarding.progress import enqueue_steps_on_commit, queue_backlog
from offboarding.runner import shutdown
from offboarding.runner.claim import slot_free
from offboarding.runner.execute import recent_call_ms, step_run_execute

logger = logging.getLogger(__name__)

SLOT_WAIT = 10.0  # seconds a thread waits for its system's slot before deferring the step
SLOW_CALL_MS = 50.0  # API calls slower than this on average: worth overlapping on threads


def step_chain_execute(*, step_id: int) -> str:
    """Run one step, then the same-system steps it made ready (and theirs). Returns what happened
    to the first step, like step_run_execute."""
    follow: list[int] = []
    outcome = step_run_execute(step_id=step_id, follow=follow)
    steps_run_here(follow)
    return outcome


def steps_run_here(step_ids: list[int]) -> None:
    """Run these ready steps (each followed by its chain) on threads, at most
    OFFBOARDING_STEP_THREADS at once. Inside an open transaction other threads could not see
    the rows, so they are queued on commit instead, as any ready step is."""
    if not step_ids:
        return
    if connection.in_atomic_block:
        enqueue_steps_on_commit(step_ids)
        return
    threads = min(settings.OFFBOARDING_STEP_THREADS, len(step_ids))
    # With tasks waiting in the broker the other workers are busy anyway, and when the API answers
    # quickly threads only fight over the interpreter lock and the database (a bulk run without
    # latency measured 3x slower); when calls are slow, threads still overlap the waiting.
    if threads > 1 and recent_call_ms() < SLOW_CALL_MS and queue_backlog() > 0:
        threads = 1
    if threads <= 1:
        for step_id in step_ids:
            _follow(step_id)
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="step") as pool:
        list(pool.map(_follow_in_thread, step_ids))


def _wait_for_slot(step_id: int) -> None:
    """A thread waits here a little for its system's slot rather than deferring the step to the
    back of the broker's queue (where a bulk run's start tasks are); after SLOT_WAIT the claim
    decides as for any step (waiting_for_slot, woken when one frees)."""
    system = StepRun.objects.filter(pk=step_id).values_list("system", flat=True).first()
    deadline = time.monotonic() + SLOT_WAIT
    while system and not slot_free(system) and time.monotonic() < deadline:
        time.sleep(random.uniform(0.02, 0.1))  # noqa: S311


def _follow(step_id: int) -> str:
    if shutdown.draining():  # a cluster asked to stop runs nothing more: the next one will
        return shutdown.release_step(step_id)
    try:
        _wait_for_slot(step_id)
        return step_chain_execute(step_id=step_id)
    except Exception:  # the step stays ready (or its lease runs out): the sweeper brings it back
        logger.exception("step %s: run in its chain failed; left for the sweeper", step_id)
        return "error"


def _follow_in_thread(step_id: int) -> str:
    try:
        return _follow(step_id)
    finally:
        connection.close()  # each thread has its own connection; don't leave it open
