"""What this process saw of the APIs lately: how long calls and each operation's calls took.

Moving averages, per process, read by `runner.chain` to choose threads (slow calls are worth
overlapping) and by the runner to order the steps a task runs (longest first)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from connections.types import CallRecord

if TYPE_CHECKING:
    from offboarding.models import StepRun

_call_ms = [0.0]  # a moving average of this process's API call times (ms)
_operation_ms: dict[tuple[str, str], float] = {}  # moving averages of a step's calls (ms)


def note_call_times(calls: list[CallRecord]) -> None:
    for call in calls:
        _call_ms[0] = 0.8 * _call_ms[0] + 0.2 * call.duration_ms


def recent_call_ms() -> float:
    """A moving average of how long this process's recent API calls took, in ms."""
    return _call_ms[0]


def note_operation_time(system: str, operation: str, ms: float) -> None:
    """How long one step of this operation spent in its calls (ms)."""
    before = _operation_ms.get((system, operation))
    _operation_ms[(system, operation)] = ms if before is None else 0.7 * before + 0.3 * ms


def operation_ms(system: str, operation: str) -> float:
    """How long this operation's calls took in this process lately, in ms (0: not seen yet)."""
    return _operation_ms.get((system, operation), 0.0)


def longest_first(step_ids: list[int], steps: Iterable[StepRun]) -> list[int]:
    """`step_ids`, those whose operation took longest in this process lately first (unknown ones
    keep their order, after the known ones); `steps` are the rows the caller has read already."""
    took = {s.pk: operation_ms(s.system, s.operation) for s in steps}
    return sorted(step_ids, key=lambda pk: -took.get(pk, 0.0))
