"""What this process saw of the APIs lately: how long calls and each operation's calls took.

Moving averages, per process, read by `runner.chain` to choose threads (slow calls are worth
overlapping) and by the runner to order the steps a task runs (longest first)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from connections import registry
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


def expected_ms(system: str, operation: str) -> float:
    """How long a step of this operation may take: what it took in this process lately, but at
    least its calls one after another (Operation.rounds) at this process's recent call time (just
    the rounds while it has made no call at all). The floor matters: a device lock for a person
    with no device is one call, and after a few such people the moving average had put the next
    person's three calls in a row behind the one-call steps."""
    rounds = registry.operation_rounds(system, operation)
    return max(operation_ms(system, operation), rounds * (recent_call_ms() or 1.0))


def longest_first(step_ids: list[int], steps: Iterable[StepRun]) -> list[int]:
    """`step_ids`, the longest expected first (ties keep their order); `steps` are the rows the
    caller has read already. A chain is as long as its slowest step: claimed first, it starts
    first (a cold worker that put an unknown 3-call step last started it ~50 ms late)."""
    took = {s.pk: expected_ms(s.system, s.operation) for s in steps}
    return sorted(step_ids, key=lambda pk: -took.get(pk, 0.0))
