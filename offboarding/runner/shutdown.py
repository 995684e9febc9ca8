"""A fast, clean shutdown: on SIGTERM workers stop taking work and hand back what they hold.

`offboarding.runner.cluster` creates the flag before it forks the cluster, so every worker process
shares it. While it is set, a task that reaches a worker is released instead of run: its id goes
back to the broker for the next cluster, and the step stays claimable. Calls already in flight
finish within the grace period, or their worker is killed and the lease brings the step back.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Event

from offboarding.progress import enqueue_start, enqueue_step

_flag: Event | None = None


def install_drain_flag() -> Event:
    """The flag shared with the worker processes forked after this call."""
    global _flag
    _flag = multiprocessing.get_context("fork").Event()
    return _flag


def draining() -> bool:
    """True once this process's cluster has been asked to stop."""
    return _flag is not None and _flag.is_set()


def release_step(step_id: int) -> str:
    """Hand a step's task back to the broker unstarted (its row is untouched, still claimable)."""
    enqueue_step(step_id)
    return "released: shutting down"


def release_start(action_request_id: int) -> str:
    """Hand a request's start back to the broker unstarted."""
    enqueue_start(action_request_id)
    return "released: shutting down"
