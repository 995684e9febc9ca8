"""A step's rounds (issue 16): each retry by a person starts a new round; the failed ones stay.

Pure reads over a StepRun (its `earlier_rounds` and prefetched `attempt_records`), for the status
page, the dashboard and the timeline: how many attempts in all, which rounds failed, and how long
the step waited for a person to retry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from offboarding import playbooks
from offboarding.models import StepAttempt, StepRun


@dataclass(frozen=True)
class Round:
    """One round of a step: its number, how it ended, its attempts and calls."""

    number: int
    status: str
    attempts: int
    error: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    retried_at: datetime | None = None
    calls: list[StepAttempt] = field(default_factory=list)

    @property
    def waited_seconds(self) -> float:
        """From this round's failure until a person retried it."""
        if self.finished_at and self.retried_at:
            return max(0.0, (self.retried_at - self.finished_at).total_seconds())
        return 0.0


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def step_rounds(step: StepRun) -> list[Round]:
    """Every round of the step, oldest first, the current one last (calls from the prefetch)."""
    calls: dict[int, list[StepAttempt]] = {}
    for call in step.attempt_records.all():
        calls.setdefault(call.round, []).append(call)
    rounds = [
        Round(
            number=int(r.get("round", i + 1)),
            status=str(r.get("status", StepRun.Status.FAILED)),
            attempts=int(r.get("attempts", 0)),
            error=str(r.get("error", "")),
            started_at=_when(r.get("started_at")),
            finished_at=_when(r.get("finished_at")),
            retried_at=_when(r.get("retried_at")),
            calls=calls.get(int(r.get("round", i + 1)), []),
        )
        for i, r in enumerate(step.earlier_rounds or [])
    ]
    rounds.append(
        Round(
            number=step.round,
            status=step.status,
            attempts=step.attempts,
            error=step.last_error,
            started_at=step.started_at,
            finished_at=step.finished_at,
            calls=calls.get(step.round, []),
        )
    )
    return rounds


def attempts_in_all(step: StepRun) -> int:
    return step.attempts + sum(int(r.get("attempts", 0)) for r in step.earlier_rounds or [])


def failed_rounds(step: StepRun, *, since: datetime) -> int:
    """Rounds of the step that ended failed since `since`: retried ones and the current one.
    Reads only the step's own fields (no calls), so a selector may run it over many rows."""
    count = 0
    for r in step.earlier_rounds or []:
        finished = _when(r.get("finished_at"))
        if r.get("status") == StepRun.Status.FAILED and finished and finished >= since:
            count += 1
    if step.status == StepRun.Status.FAILED and step.finished_at and step.finished_at >= since:
        count += 1
    return count


def waited_for_retry(step: StepRun) -> float:
    """Like `retry_wait_seconds`, from the step's own fields only (no calls)."""
    total = 0.0
    for r in step.earlier_rounds or []:
        finished, retried = _when(r.get("finished_at")), _when(r.get("retried_at"))
        if finished and retried:
            total += max(0.0, (retried - finished).total_seconds())
    return total


def is_lockout_step(kind: str, step: StepRun) -> bool:
    return (step.system, step.operation) in playbooks.LOCKOUT_STEPS.get(kind, ())
