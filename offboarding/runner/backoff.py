"""How long a step waits before its next attempt: exponential backoff with full jitter."""

from __future__ import annotations

import random

from django.conf import settings


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Full jitter: uniform(0, min(cap, base·2^(n-1))), never earlier than the server's hint."""
    ceiling = min(
        settings.OFFBOARDING_BACKOFF_CAP,
        settings.OFFBOARDING_BACKOFF_BASE * (2 ** max(attempt - 1, 0)),
    )
    delay = random.uniform(0, ceiling)  # noqa: S311 (jitter, not security)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, float(retry_after))
    return delay
