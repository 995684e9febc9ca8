"""Independent calls of one operation side by side: the removals a list-then-remove operation makes,
the actions on each of a person's devices, and the reads of a verification.

An operation that must name what it removes (Okta's groups, Google's OAuth tokens and app passwords)
lists first and then removes each item: one call per item. Those removals do not depend on each
other, so `fan_out` runs them on a few threads at once (`ProviderClient.fanout_limit`, a small bound
per client on top of the runner's per-connection limit on steps). Each call still goes through the
client's `request` (URL policy, pinned transport, auth, its CallRecord, its error mapping); httpx's
Client is thread-safe, and the call recorder of the step (a context variable) is carried into each
thread. What the sequential loop did on a failure still holds: after the first error no further item
is started (a 429 means the bucket is empty: sending more only meets more 429s); the calls already
in flight are waited for, and then one error is raised, a change of unknown outcome before any
other (the runner must probe before repeating it), else the first failed item in list order.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings

from connections.types import ConnectorError

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_FANOUT_LIMIT = 8


def fan_out(items: Sequence[T], call: Callable[[T], R], *, limit: int) -> list[R]:
    """`call(item)` for every item, at most `limit` at once; the results in the items' order.

    One item (or `limit` 1) runs inline on the caller's thread, as a plain loop would. After the
    first exception no further item starts; when the started ones are done, the exception to raise
    is chosen by `_first_error`.
    """
    width = max(1, min(limit, len(items)))
    if width == 1:
        return [call(item) for item in items]
    results: list[R | None] = [None] * len(items)
    errors: dict[int, BaseException] = {}
    lock = threading.Lock()
    next_index = [0]

    def worker() -> None:
        while True:
            with lock:
                if errors or next_index[0] >= len(items):
                    return
                index = next_index[0]
                next_index[0] += 1
            try:
                results[index] = call(items[index])
            except BaseException as exc:  # re-raised on the caller's thread below
                with lock:
                    errors[index] = exc

    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="fanout") as pool:
        # Each thread runs in a copy of the caller's context: the step's call recorder is shared.
        futures = [pool.submit(contextvars.copy_context().run, worker) for _ in range(width)]
        for future in futures:
            future.result()
    if errors:
        raise _first_error(errors)
    return results  # type: ignore[return-value]  # every slot was filled: no error


def _first_error(errors: dict[int, BaseException]) -> BaseException:
    """The error to raise: a change whose outcome is unknown first, else the earliest item's."""
    ordered = [errors[i] for i in sorted(errors)]
    for exc in ordered:
        if isinstance(exc, ConnectorError) and exc.outcome_unknown:
            return exc
    return ordered[0]


class FanOut:
    """ProviderClient's side-by-side removals (a mixin, so every provider has them)."""

    _fanout_slots: threading.BoundedSemaphore | None = None
    _fanout_lock = threading.Lock()

    @property
    def fanout_limit(self) -> int:
        """How many independent calls of one operation may run at once (PORTAL_FANOUT_LIMIT)."""
        return max(1, int(getattr(settings, "PORTAL_FANOUT_LIMIT", DEFAULT_FANOUT_LIMIT)))

    def _slots(self) -> threading.BoundedSemaphore:
        # Shared by every operation (thread) using this client, i.e. this connection in this
        # process: steps running at once on one connection stay within the limit together.
        with self._fanout_lock:
            if self._fanout_slots is None:
                self._fanout_slots = threading.BoundedSemaphore(self.fanout_limit)
            return self._fanout_slots

    def delete_each(self, paths: Sequence[str], *, resource: str) -> list[bool]:
        """DELETE every path side by side (fan_out), through the client's `request`; per path True
        if removed now, False if it was already gone (404). Any other error is raised as `request`
        maps it, once the calls in flight are done."""
        request: Callable[..., Any] = self.request  # type: ignore[attr-defined]

        def delete(path: str) -> bool:
            try:
                request("DELETE", path, resource=resource)
            except ConnectorError as exc:
                if exc.status == 404:  # already gone is fine
                    return False
                raise
            return True

        return self.side_by_side([functools.partial(delete, path) for path in paths])

    def side_by_side(self, calls: Sequence[Callable[[], R]]) -> list[R]:
        """Independent calls of one operation (reads of a read-back, one device's actions each)
        at once, within this client's slots; the results in order, errors as `fan_out` raises
        them. A call must not itself use `delete_each` or `side_by_side` (it would hold a slot
        while waiting for another)."""
        slots = self._slots()

        def run(call: Callable[[], R]) -> R:
            with slots:
                return call()

        return fan_out(calls, run, limit=self.fanout_limit)
