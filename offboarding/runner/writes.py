"""The runner's write transactions: on SQLite, writers queue for their turn instead of sleeping.

SQLite lets one connection write at a time; a connection that finds the file locked sleeps in its
busy handler (1, 2, 5 … 100 ms) and tries again, so with a dozen threads per worker (runner.chain)
writers mostly sleep while the lock sits free, and a busy process starves the others. Here the
runner's writers wait in line instead: the threads of a process on a lock, the processes on an
advisory file lock beside the database (`<database>.writers`), handed on the moment it is
released. Other writers (pages, the broker) still meet them at SQLite's own lock, as before.
PostgreSQL needs none of this.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from django.db import connection, transaction

_TURN = threading.Lock()
_files: dict[str, int] = {}


def _lock_file(database: str) -> int | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    fd = _files.get(database)
    if fd is None:
        fd = _files[database] = os.open(f"{database}.writers", os.O_CREAT | os.O_RDWR, 0o600)
    return fd


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """transaction.atomic(), after this writer's turn when on SQLite."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _TURN:
        fd = _lock_file(str(connection.settings_dict["NAME"]))
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with transaction.atomic():
                yield
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
