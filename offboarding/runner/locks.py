"""The runner's locks on PostgreSQL, taken by trying rather than by queuing in the server.

A statement that waits in PostgreSQL's lock queue is granted the lock whether or not its process
still runs. A process frozen while it waits (SIGSTOP, a paused VM, a swap storm) is granted the lock
in its turn and then holds it, idle, until the server ends its session
(DB_IDLE_TRANSACTION_TIMEOUT); its other threads queued on the same lock do the same after it, one
after another. One frozen worker with four threads in line for Google's claim lock stopped every
Google claim for 40 s. Here a runner session only ever *tries* a lock and, when it is taken, sleeps
a few milliseconds in its own process and tries again: a frozen process then holds at most the
locks it held when it froze, each for one idle timeout. The threads of one process first take turns
on a lock of their own (in the order they came), so only one of them at a time tries the server.

After `FALLBACK_AFTER_S` of trying, the lock is waited for as before, so a claim or a completion
is never given up. SQLite has no such locks (the runner's writers take turns, `runner.writes`).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator

from django.db import connection

from offboarding.models import ActionRequest
from offboarding.runner.writes import write_transaction

FALLBACK_AFTER_S = 30.0
_FIRST_PAUSE_S = 0.001
_LONGEST_PAUSE_S = 0.02
_REQUEST_TURNS = 64  # requests share this many in-process turns (by id)

_turns: dict[str, threading.RLock] = {}
_turns_guard = threading.Lock()


@contextlib.contextmanager
def _turn(key: str) -> Iterator[None]:
    """This process's threads one at a time for `key` (PostgreSQL; SQLite's writers already are)."""
    if connection.vendor != "postgresql":
        yield
        return
    with _turns_guard:
        turn = _turns.setdefault(key, threading.RLock())
    with turn:
        yield


@contextlib.contextmanager
def claim_transaction(system: str) -> Iterator[None]:
    """A write transaction holding the lock that serialises the claims of one system."""
    with _turn(f"system:{system}"), write_transaction():
        system_claim_lock(system)
        yield


@contextlib.contextmanager
def request_transaction(action_request_id: int) -> Iterator[None]:
    """A write transaction holding one request's row lock (its completions one at a time)."""
    with _turn(f"request:{action_request_id % _REQUEST_TURNS}"), write_transaction():
        request_lock(action_request_id)
        yield


def _keep_trying(attempt: Callable[[], bool], wait: Callable[[], object]) -> None:
    """Call `attempt()` until it returns True, pausing between tries; after FALLBACK_AFTER_S,
    `wait()` (blocking) instead."""
    deadline = time.monotonic() + FALLBACK_AFTER_S
    pause = _FIRST_PAUSE_S
    while not attempt():
        if time.monotonic() >= deadline:
            wait()
            return
        time.sleep(random.uniform(pause / 2, pause))  # noqa: S311
        pause = min(pause * 2, _LONGEST_PAUSE_S)


def system_claim_lock(system: str) -> None:
    """Hold, until the transaction ends, the lock that serialises the claims of one system."""
    if connection.vendor != "postgresql":
        return
    key = f"offboarding:{system}"

    def attempt() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [key])
            return bool(cursor.fetchone()[0])

    def wait() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])

    _keep_trying(attempt, wait)


def request_lock(action_request_id: int) -> None:
    """Hold, until the transaction ends, the row lock of one request (one completion at a time)."""
    rows = ActionRequest.objects.filter(pk=action_request_id)
    if connection.vendor != "postgresql":
        rows.select_for_update().first()
        return
    first_try = True

    def attempt() -> bool:
        nonlocal first_try
        got = rows.select_for_update(skip_locked=True).values_list("pk", flat=True).first()
        if got is None and first_try:
            first_try = False
            return not rows.exists()  # no such request: nothing to wait for
        return got is not None

    _keep_trying(attempt, lambda: rows.select_for_update().first())
