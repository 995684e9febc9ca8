"""django-q2's sentinel, watched for a wedged task queue.

A cluster's workers share one multiprocessing queue, read under one lock that an idle worker holds
while it waits for the next task. A worker killed (or stopped) while it waits never gives that lock
back, and every other worker then waits forever while the cluster looks alive: the "no task for six
minutes" an outside review found. The sentinel cannot tell who holds the lock, so it watches for the
two signs and raises a flag shared with the cluster's main process, which restarts the cluster
(`offboarding.runner.cluster`):

- a worker that died while idle (django-q2 restarts it, but the lock may be gone with it);
- tasks in the queue while every worker has been idle for `STALL_SECONDS` (a stopped reader).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.synchronize import Event
from typing import Any

from django_q.cluster import Sentinel

logger = logging.getLogger(__name__)

STALL_SECONDS = 5.0
_IDLE = -1  # django-q2's worker timer while it waits for a task

_wedged: Event | None = None


def install_wedge_flag() -> Event:
    """The flag a sentinel forked after this call raises when its queue may be wedged."""
    global _wedged
    _wedged = multiprocessing.get_context("fork").Event()
    return _wedged


def _raise_flag(why: str) -> None:
    if _wedged is not None and not _wedged.is_set():
        logger.error("task queue may be wedged (%s): asking for a cluster restart", why)
        _wedged.set()


class WatchedSentinel(Sentinel):
    """A Sentinel that raises the wedge flag (see the module's docstring)."""

    def start(self) -> None:
        threading.Thread(target=self._watch_queue, name="queue-watch", daemon=True).start()
        super().start()

    def reincarnate(self, process: Any) -> None:
        if process in self.pool and process.timer.value == _IDLE and not self.stop_event.is_set():
            _raise_flag(f"worker {process.pid} died while waiting for a task")
        super().reincarnate(process)

    def _watch_queue(self) -> None:
        stalled_since: float | None = None
        while not self.stop_event.is_set():
            time.sleep(0.5)
            try:
                waiting = self.task_queue.qsize() > 0
            except (NotImplementedError, OSError):  # macOS, or the queue is closing
                return
            idle = all(p.timer.value == _IDLE for p in list(self.pool) if p.is_alive())
            if not (waiting and idle):
                stalled_since = None
            elif stalled_since is None:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since >= STALL_SECONDS:
                _raise_flag(f"tasks queued, every worker idle for {STALL_SECONDS:.0f} s")
                return
