"""`manage.py qcluster`: django-q2's cluster with the sweeper in its main process and a fast drain.

django-q2 on its own, on SIGTERM, lets its workers run every task already pulled from the broker
(up to workers² of them) and waits for every call in flight, however slow the provider: 14 s to
over a minute in the field. Here the main process, on SIGTERM or SIGINT:

1. sets the drain flag shared with the workers (`offboarding.runner.shutdown`): a task that reaches
   a worker from now on is handed back to the broker unstarted;
2. asks django-q2's sentinel to stop (its pusher stops pulling, its workers stop after the queue);
3. waits for the sentinel up to `OFFBOARDING_SHUTDOWN_SECONDS` less a second, then kills whatever
   is left of the cluster (workers still in a call) and marks their leases expired, so the next
   sweep, here or on another host, takes those steps back with a probe first.

Between start and stop the main process sweeps every `OFFBOARDING_SWEEP_SECONDS` (expired leases
come back within seconds, not at django-q2's 30 s schedule), and once at start-up with no re-queue
age, since a cluster killed before this one may have taken tasks from the broker with it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from django import db
from django.conf import settings
from django_q.cluster import Cluster

from offboarding.runner import shutdown
from offboarding.runner.lease import leases_expire_now, owner_prefix
from offboarding.runner.sweep import sweep

logger = logging.getLogger(__name__)


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, children first (Linux /proc)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(k) for k in children.read_text().split()]
            except OSError:  # the task ended while we looked
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def _sweep_once(**kwargs: Any) -> None:
    db.close_old_connections()
    try:
        report = sweep(**kwargs)
    except Exception:  # a database hiccup must not stop the cluster; the next pass tries again
        logger.exception("sweep failed")
        return
    if any(vars(report).values()):
        logger.info("sweep: %s", report)


class PortalCluster(Cluster):
    """django-q2's Cluster; `run()` blocks until SIGTERM/SIGINT and a drain, or the cluster dies."""

    def __init__(self) -> None:
        self.stop_requested = threading.Event()
        super().__init__()

    def sig_handler(self, signum: int, frame: Any) -> None:
        # Only note it: the drain runs in the main loop, never inside a signal handler.
        self.stop_requested.set()

    def run(self) -> float:
        """Start, sweep until asked to stop, drain. Returns the drain's duration in seconds."""
        drain_flag = shutdown.install_drain_flag()
        db.connections.close_all()  # the sentinel and workers are forked: share no connection
        self.start()
        interval = settings.OFFBOARDING_SWEEP_SECONDS
        if interval:
            _sweep_once(requeue_after=0)
        while not self.stop_requested.wait(interval or 1.0):
            if not self.sentinel or not self.sentinel.is_alive():
                logger.error("the cluster's sentinel died; stopping")
                break
            if interval:
                _sweep_once()
        return self.drain(drain_flag)

    def drain(self, drain_flag: Any) -> float:
        started = time.monotonic()
        budget = settings.OFFBOARDING_SHUTDOWN_SECONDS
        drain_flag.set()
        if self.sentinel and self.sentinel.is_alive() and self.stop_event:
            logger.info("draining: unstarted tasks go back to the broker")
            self.stop_event.set()
            self.sentinel.join(timeout=max(0.5, budget - 1.0))
        if self.sentinel and self.sentinel.is_alive():
            self._kill_the_rest(self.sentinel.pid)
        elapsed = time.monotonic() - started
        logger.info("cluster stopped in %.1f s", elapsed)
        return elapsed

    def _kill_the_rest(self, sentinel_pid: int) -> None:
        """Workers still in a call when time is up: kill them, expire their leases now."""
        pids = descendants(sentinel_pid)
        for pid in [*pids, sentinel_pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.sentinel:
            self.sentinel.join(timeout=2)
        try:
            db.close_old_connections()
            expired = leases_expire_now(prefixes=[owner_prefix(pid) for pid in pids])
        except Exception:  # the leases then run out by themselves
            logger.exception("could not expire the killed workers' leases")
            return
        logger.warning(
            "killed %d cluster processes; %d steps go back to the sweeper", len(pids), expired
        )
