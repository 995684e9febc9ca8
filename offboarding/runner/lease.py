"""Leases: who holds a running step, renewed while its call is in flight, taken back when it dies.

A claim gives the worker a short lease (`OFFBOARDING_LEASE_SECONDS`). While the outside call runs,
a thread renews it every `OFFBOARDING_HEARTBEAT_SECONDS` with a fenced UPDATE (only while this
owner still holds the step and it is running). A worker that dies, or is stopped, stops renewing:
its lease runs out within one lease length and the sweeper takes the step back (probe first). The
late result of a worker that comes back is then refused by the fenced completion (stale).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from offboarding.models import StepRun

logger = logging.getLogger(__name__)

S = StepRun.Status

_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"[:6]


def owner_prefix(pid: int | None = None) -> str:
    """The start of every lease owner taken by process `pid` on this host: `<host>.<pid>.`."""
    return f"{_HOST}.{pid or os.getpid()}."


def new_lease_owner() -> str:
    """A lease owner naming this host and process, unique per claim (36 characters at most)."""
    prefix = owner_prefix()
    return prefix + uuid.uuid4().hex[: 36 - len(prefix)]


def lease_renew(*, step_id: int, owner: str, now: datetime | None = None) -> bool:
    """Push the lease's expiry one lease length ahead; False when this owner no longer holds it."""
    now = now or timezone.now()
    expires = now + timedelta(seconds=settings.OFFBOARDING_LEASE_SECONDS)
    return bool(
        StepRun.objects.filter(pk=step_id, lease_owner=owner, status=S.RUNNING).amend(
            at=now, lease_expires_at=expires
        )
    )


def leases_expire_now(*, prefixes: list[str], now: datetime | None = None) -> int:
    """Mark the running leases of dead processes as expired, so the next sweep takes them back."""
    now = now or timezone.now()
    count = 0
    for prefix in prefixes:
        count += StepRun.objects.filter(
            status=S.RUNNING, lease_owner__startswith=prefix, lease_expires_at__gt=now
        ).amend(at=now, lease_expires_at=now)
    return count


def _renew_until_stopped(step_id: int, owner: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.OFFBOARDING_HEARTBEAT_SECONDS):
            try:
                if not lease_renew(step_id=step_id, owner=owner):
                    logger.warning("step %s: lease lost while its call runs", step_id)
                    return
            except Exception:  # a database hiccup: the next beat tries again
                logger.exception("step %s: lease renewal failed", step_id)
    finally:
        connection.close()  # this thread's own connection


@contextmanager
def keep_lease(*, step_id: int, owner: str) -> Iterator[None]:
    """Renew the step's lease in the background while the block runs (the outside call)."""
    stop = threading.Event()
    beat = threading.Thread(
        target=_renew_until_stopped,
        args=(step_id, owner, stop),
        name=f"lease-{step_id}",
        daemon=True,
    )
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=5)
