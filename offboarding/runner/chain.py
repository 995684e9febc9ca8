"""Run ready steps inside the task that made them ready, on threads, instead of queuing each one.

A start makes a request's first steps ready (one per system); an offboard's lock step (Okta
suspend) then makes several revoke steps ready that wait only for it. Queuing each of them costs a
broker hop and a free worker per step; running them here, each on its own thread (the work is
waiting on the network), starts them the moment they are recorded as ready. This task claims them
itself on its open connection, longest first: the first alone, the others together (one
transaction per system) as threads are free for them, handing each to its thread once claimed
(`steps_run_here`). Every step still goes through claim → call → fenced complete, so the
concurrency limit, leases, probes and the audit trail are exactly those of a queued step. The steps
are ready rows with `enqueued_at` set and `followed` true: if this task dies before running them,
the sweeper queues them again (`OFFBOARDING_FOLLOW_REQUEUE_AFTER`).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from django.conf import settings
from django.db import connection

from offboarding.models import StepRun
from offboarding.progress import enqueue_steps_on_commit, offer_step, queue_backlog
from offboarding.runner import shutdown
from offboarding.runner.claim import FULL, SlotBusy, step_run_claim, steps_claim
from offboarding.runner.execute import Claimed, step_run_execute
from offboarding.runner.lease import new_lease_owner
from offboarding.runner.timings import recent_call_ms

logger = logging.getLogger(__name__)

SLOT_WAIT = 10.0  # seconds a thread waits for its system's slot before deferring the step
SLOW_CALL_MS = 50.0  # API calls slower than this on average: worth overlapping on threads


def step_chain_execute(
    *, step_id: int, wait_for_slot: bool = False, claimed: Claimed | None = None
) -> str:
    """Run one step, then the steps its completion made ready (and theirs). Returns what happened
    to the first step, like step_run_execute. With `wait_for_slot`, a step whose system has no
    free slot raises SlotBusy instead of being deferred (the caller waits and tries again);
    `claimed`: the step was claimed already."""
    follow: list[int] = []
    outcome = step_run_execute(
        step_id=step_id, follow=follow, defer_when_full=not wait_for_slot, claimed=claimed
    )
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
    fast_api, spread = recent_call_ms() < SLOW_CALL_MS, _spread()
    # The broker's backlog (a query with the ORM broker) only when something depends on it.
    backlog = queue_backlog() if threads > 1 and (fast_api or spread) else 0
    # With tasks waiting in the broker the other workers are busy anyway, and when the API answers
    # quickly threads only fight over the interpreter lock and the database (a bulk run without
    # latency measured 3x slower); when calls are slow, threads still overlap the waiting.
    if threads > 1 and fast_api and backlog > 0:
        threads = 1
    offer = threads > 1 and spread and backlog == 0
    if threads <= 1:
        for step_id in step_ids:
            _follow(step_id)
        return
    # The steps are claimed here, on this thread's open connection (threads claiming at once each
    # open a connection, ~3.5 ms on PostgreSQL, and contend for the interpreter), in the order
    # given (callers put the longest first, timings.longest_first): the first alone, so the
    # longest chain starts first, then the others together (claim.steps_claim).
    # A step is claimed only once a thread is free to run it: claimed, it would wait in the
    # pool's queue while an idle worker could have taken its offer (a set of 11 followers on 8
    # threads had three 1-call steps finish at twice their call time).
    free = threading.BoundedSemaphore(threads)

    def run(step_id: int, claimed: Claimed | None) -> str:
        try:
            return _follow_in_thread(step_id, claimed)
        finally:
            free.release()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="step") as pool:
        runs = []

        def hand_over(batch: list[int]) -> None:
            for step_id, taken in _claim_several_here(batch):
                if taken is False:
                    free.release()
                else:
                    runs.append(pool.submit(run, step_id, taken))

        rest = list(step_ids[1:])
        free.acquire()
        hand_over(step_ids[:1])
        if offer:
            # An idle worker of another process takes an offer from Redis within a millisecond
            # or two, and claims the step on its own connection with its own interpreter (this
            # process's threads share one: a level's four steps took turns for it). Whichever
            # claims a step first runs it; the other finds it taken (one read). The first step,
            # the longest, is this task's own and is on its way before the offers go out; an
            # offer that finds its system's slots full leaves the step to this task.
            for step_id in rest:
                offer_step(step_id)
        while rest:
            # The others as threads are free for them, as many at once as there are: claimed
            # together, one transaction per system (claim.steps_claim).
            free.acquire()
            batch = [rest.pop(0)]
            while rest and free.acquire(blocking=False):
                batch.append(rest.pop(0))
            hand_over(batch)
        for done in runs:
            done.result()


def step_offer_take(*, step_id: int) -> str:
    """Take a step another task offered (`steps_run_here`) if it is still unclaimed and its system
    has a free slot now, and run it with its chain; otherwise leave it to that task."""
    claimed = _claim_here(step_id)
    if claimed is None:
        return "left to the task that offered it"
    if claimed is False:
        return "not claimed"
    return step_chain_execute(step_id=step_id, claimed=claimed)


def _spread() -> bool:
    """Offer a task's steps to the other workers too: with the Redis broker only (it hands a task
    out at once; the ORM broker polls, and its tasks are database writes)."""
    return settings.OFFBOARDING_SPREAD_STEPS and "redis" in settings.Q_CLUSTER


def _claim_here(step_id: int) -> Claimed | None | Literal[False]:
    """The step claimed for a thread of this process; None when its thread should try (no free
    slot yet, or a stopping cluster, which hands it back); False when it is not to be run here
    (taken by another worker, not due, or deferred for the API's rate limit)."""
    if shutdown.draining():
        return None
    owner = new_lease_owner()
    try:
        step = step_run_claim(step_id=step_id, owner=owner, defer_when_full=False)
    except SlotBusy:
        return None
    except Exception:  # the thread tries again; failing that, the sweeper brings the step back
        logger.exception("step %s: claim failed; its thread tries again", step_id)
        return None
    return False if step is None else Claimed(step=step, owner=owner)


def _claim_several_here(step_ids: list[int]) -> list[tuple[int, Claimed | None | Literal[False]]]:
    """`_claim_here` for several steps at once (claim.steps_claim), in their order."""
    if len(step_ids) == 1:
        return [(step_ids[0], _claim_here(step_ids[0]))]
    if shutdown.draining():
        return [(step_id, None) for step_id in step_ids]
    try:
        rows = steps_claim(step_ids=step_ids, owner=new_lease_owner)
    except Exception:  # each thread tries again; failing that, the sweeper brings the step back
        logger.exception("steps %s: claim failed; their threads try again", step_ids)
        return [(step_id, None) for step_id in step_ids]
    result: list[tuple[int, Claimed | None | Literal[False]]] = []
    for step_id in step_ids:
        row = rows.get(step_id)
        if row == FULL:
            result.append((step_id, None))
        elif isinstance(row, StepRun):
            result.append((step_id, Claimed(step=row, owner=row.lease_owner)))
        else:
            result.append((step_id, False))
    return result


def _follow(step_id: int, claimed: Claimed | None = None) -> str:
    """Run the step (claimed already, or not yet) and its chain. A thread waits a little for its
    system's slot rather than deferring the step to the back of the broker's queue (where a bulk
    run's start tasks are); after SLOT_WAIT the claim decides as for any step (waiting_for_slot,
    woken when one frees)."""
    if claimed is None and shutdown.draining():  # a stopping cluster runs nothing more
        return shutdown.release_step(step_id)
    deadline = time.monotonic() + SLOT_WAIT
    try:
        if claimed is not None:
            return step_chain_execute(step_id=step_id, claimed=claimed)
        while True:
            try:
                return step_chain_execute(
                    step_id=step_id, wait_for_slot=time.monotonic() < deadline
                )
            except SlotBusy:
                time.sleep(random.uniform(0.02, 0.1))  # noqa: S311
    except Exception:  # the step stays ready (or its lease runs out): the sweeper brings it back
        logger.exception("step %s: run in its chain failed; left for the sweeper", step_id)
        return "error"


def _follow_in_thread(step_id: int, claimed: Claimed | None = None) -> str:
    try:
        return _follow(step_id, claimed)
    finally:
        connection.close()  # each thread has its own connection; don't leave it open
