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
age, since a cluster killed before this one may have taken tasks from the broker with it. When the
sentinel reports its task queue wedged (`offboarding.runner.sentinel`), the main process kills the
cluster, expires its workers' leases and starts a fresh one: seconds, instead of a cluster that
looks alive and runs nothing.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from django import db
from django.conf import settings
from django_q.cluster import Cluster, get_mp_context

from connections import registry
from connections.providers.transport import shared_ssl_context
from offboarding.runner import shutdown
from offboarding.runner.execute import step_run_execute
from offboarding.runner.lease import leases_expire_now, owner_prefix
from offboarding.runner.sentinel import WatchedSentinel, install_wedge_flag
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


def _resume(step_id: int) -> None:
    """Run a step taken back from a dead worker here and now (its queued task is then a no-op)."""
    try:
        step_run_execute(step_id=step_id)
    except Exception:  # its queued task, or the next sweep, tries again
        logger.exception("resuming step %s failed", step_id)
    finally:
        db.connection.close()


_resuming: list[threading.Thread] = []  # this process's threads resuming steps (main thread only)
THREAD_EXIT_WAIT = 1.0  # seconds a joined thread is given to leave the OS


def _resume_in_thread(step_id: int) -> None:
    thread = threading.Thread(
        target=_resume, args=(step_id,), name=f"resume-{step_id}", daemon=True
    )
    _resuming[:] = [t for t in _resuming if t.is_alive()]
    _resuming.append(thread)
    thread.start()


def _quiet_before_fork(timeout: float | None = None) -> None:
    """Wait for this process's step-resuming threads to end (at most `timeout` s, by default the
    three calls a step may make), and for their OS threads to be gone, before the cluster forks
    its sentinel and workers.

    A child forked while another thread is inside, or leaving, OpenSSL (a TLS read, a DPoP
    signature, the exit handler that runs after Python's `join` has returned) inherits a lock no
    one will release: its first signature on a new thread hangs for good, holding the interpreter
    lock, and django-q2's replacement workers, forked from the same sentinel, hang alike. Only a
    restart after a wedged queue can meet such threads (the first start has none)."""
    if timeout is None:
        timeout = 3 * settings.PORTAL_HTTP_TIMEOUT
    ends = time.monotonic() + timeout
    for thread in list(_resuming):
        thread.join(max(0.0, ends - time.monotonic()))
    _resuming[:] = [t for t in _resuming if t.is_alive()]
    if _resuming:
        logger.warning(
            "forking with %d step(s) still resuming in this process after %.0f s: a new worker "
            "may hang on a lock one of them holds",
            len(_resuming),
            timeout,
        )
        return
    gone = time.monotonic() + THREAD_EXIT_WAIT
    while _os_threads() > threading.active_count() and time.monotonic() < gone:
        time.sleep(0.005)  # a joined thread still leaving (its OpenSSL exit handler)


def _os_threads() -> int:
    """This process's threads as the kernel counts them (Linux), or Python's count elsewhere."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _sweep_once(**kwargs: Any) -> None:
    """One sweep; the steps it takes back from dead workers are resumed in threads of this process
    the moment each is taken back, so they wait neither behind the queue (whatever the broker did
    with their tasks) nor behind the rest of the sweep."""
    db.close_old_connections()
    try:
        report = sweep(resume=_resume_in_thread, **kwargs)
    except Exception:  # a database hiccup must not stop the cluster; the next pass tries again
        logger.exception("sweep failed")
        return
    if str(report) != str(type(report)()):
        logger.info("sweep: %s", report)


def _abandon_resumed_steps() -> None:
    """Steps this process still resumes when it exits: their leases expire now (next sweep)."""
    try:
        db.close_old_connections()
        leases_expire_now(prefixes=[owner_prefix()])
    except Exception:  # they run out by themselves
        logger.exception("could not expire this process's leases")


class PortalCluster(Cluster):
    """django-q2's Cluster; `run()` blocks until SIGTERM/SIGINT and a drain, or the cluster dies."""

    def __init__(self) -> None:
        self.stop_requested = threading.Event()
        self.next_sweep = 0.0
        super().__init__()

    def sig_handler(self, signum: int, frame: Any) -> None:
        # Only note it: the drain runs in the main loop, never inside a signal handler.
        self.stop_requested.set()

    def start(self) -> int:
        """django-q2's start, with the watched sentinel and fresh shared flags."""
        self.drain_flag = shutdown.install_drain_flag()
        self.wedged = install_wedge_flag()
        shared_ssl_context()  # made once here, inherited by every worker (each made its own)
        # Access tokens fetched once (in a child process) and kept here, inherited by every worker
        # (each asked for its own on its first step of a system: a token request, and for Google
        # and Microsoft 365 a signed assertion).
        registry.warm_tokens()
        db.connections.close_all()  # the sentinel and workers are forked: share no connection
        _quiet_before_fork()  # ... and inherit no lock a thread of this process holds
        self.stop_event = multiprocessing.Event()
        self.start_event = multiprocessing.Event()
        self.sentinel = get_mp_context().Process(
            target=WatchedSentinel,
            name=f"Process-{uuid.uuid4().hex}",
            args=(self.stop_event, self.start_event, self.cluster_id, self.broker, self.timeout),
        )
        self.sentinel.start()
        logger.info("Q Cluster %s starting.", self.name)
        while self.start_event and not self.start_event.is_set():
            if not self.sentinel.is_alive():
                raise RuntimeError(f"Q Cluster {self.name} failed to start")
            time.sleep(0.1)
        if settings.OFFBOARDING_SWEEP_SECONDS:
            _sweep_once(requeue_after=0)
        return self.pid

    def run(self) -> float:
        """Start, sweep until asked to stop, drain. Returns the drain's duration in seconds."""
        self.start()
        interval = settings.OFFBOARDING_SWEEP_SECONDS
        while not self.stop_requested.wait(min(interval or 1.0, 1.0)):
            if self.wedged.is_set():
                self.restart()
            elif not self.sentinel or not self.sentinel.is_alive():
                logger.error("the cluster's sentinel died; stopping")
                break
            elif interval and time.monotonic() >= self.next_sweep:
                _sweep_once()
                self.next_sweep = time.monotonic() + interval
        return self.drain(self.drain_flag)

    def restart(self) -> None:
        """A wedged queue: kill the cluster (its workers' steps go back to the sweeper), start anew."""
        if self.sentinel and self.sentinel.is_alive():
            self._kill_the_rest(self.sentinel.pid)
        self.start()

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
        _abandon_resumed_steps()
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
