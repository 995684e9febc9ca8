"""Rate-limit pacing: stop claiming a system's steps while its API bucket is (nearly) empty.

Okta answers every call with X-Rate-Limit-Remaining and -Reset (per endpoint family, one-minute
windows). When an answer shows a bucket down to its reserve (the system's concurrency limit: the
calls that may already be in flight elsewhere), or a 429 came back, the runner notes "paused until
the bucket refills" in the shared cache; a claim for that system meanwhile defers the step to that
time without counting an attempt. So a bulk run spends each window's calls and then waits, instead
of running into 429s and using up its steps' attempts. A missing or lost note only means the API's
own 429 (honoured with Retry-After, as before) is the backstop.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from django.core.cache import cache

from connections.types import CallRecord

logger = logging.getLogger(__name__)

_KEY = "offboarding:rate-paused:{}"


def rate_note(system: str, calls: list[CallRecord], *, reserve: int) -> float | None:
    """After a step's calls: pause the system's claims until its bucket refills when an answer
    showed it at or below `reserve` calls left (or refused one with 429). Returns the pause end."""
    until = max(
        (
            c.rate_reset
            for c in calls
            if c.rate_reset is not None
            and (c.status == 429 or (c.rate_remaining is not None and c.rate_remaining <= reserve))
        ),
        default=None,
    )
    now = time.time()
    if until is None or until <= now:
        return None
    key = _KEY.format(system)
    try:
        current = cache.get(key)
        if current is None or float(current) < until:
            cache.set(key, until, timeout=int(until - now) + 5)
    except Exception:  # no cache (table missing, Redis down): the API's 429 is the backstop
        logger.warning("rate pause for %s not noted: the cache is unavailable", system)
        return None
    return until


def rate_paused_until(system: str) -> datetime | None:
    """When the system's bucket refills, if its claims are paused now; else None (also when the
    cache cannot be read: a pause is an optimisation, never a reason to stop a step)."""
    try:
        until = cache.get(_KEY.format(system))
    except Exception:
        logger.warning("rate pause for %s not read: the cache is unavailable", system)
        return None
    if until is None or float(until) <= time.time():
        return None
    return datetime.fromtimestamp(float(until), tz=UTC)
