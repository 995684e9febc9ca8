"""A picture of a run (issue 16): each system's steps on one time axis from approval to the end,
with the waits for a retry (a person's, or the runner's back-off and rate limits) visible, drawn
by the server as SVG geometry like the dashboard's charts, with the same facts as a table.

Pure: reads a request with its steps and their attempt records prefetched; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from offboarding import rounds
from offboarding.models import ActionRequest, StepAttempt, StepRun, SystemChoices
from offboarding.timefmt import duration_words

WIDTH, LABEL_W, ROW_H, BAR_H, PAD, AXIS_H = 640, 150, 30, 16, 6, 22
_SPAN = WIDTH - LABEL_W - 10
_MIN_WAIT = timedelta(milliseconds=500)
FILLS = {"run": "#0b5cad", "ok": "#1a7f37", "failed": "#b42318", "wait": "#9a6700"}


@dataclass(frozen=True)
class Segment:
    kind: str  # run, ok, failed, wait
    label: str
    x: float
    width: float
    y: float
    fill: str


@dataclass(frozen=True)
class SystemRow:
    system: str
    label: str
    y: float
    text_y: float
    segments: list[Segment] = field(default_factory=list)
    lockout: str = ""  # "3.2 s after approval" or ""
    marker_x: float | None = None
    waited: str = ""  # total waits in words


@dataclass(frozen=True)
class Timeline:
    rows: list[SystemRow]
    start: datetime
    end: datetime
    width: int = WIDTH
    label_width: int = LABEL_W

    @property
    def height(self) -> int:
        return len(self.rows) * ROW_H + PAD + AXIS_H

    @property
    def axis_y(self) -> int:
        return len(self.rows) * ROW_H + PAD + 14

    @property
    def total(self) -> str:
        return duration_words((self.end - self.start).total_seconds())

    @property
    def aria_label(self) -> str:
        parts = [f"{r.label}: {r.lockout or 'not locked out'}" for r in self.rows]
        return f"Run timeline over {self.total} from approval. " + "; ".join(parts)


def _intervals(step: StepRun) -> list[tuple[str, datetime, datetime, str]]:
    """(kind, from, to, words) for a step: each round's run, the waits between its attempts
    (back-off, rate limits) and the wait for a person's retry after a failed round."""
    out: list[tuple[str, datetime, datetime, str]] = []
    for r in rounds.step_rounds(step):
        if r.started_at is None:
            continue
        end = r.finished_at or timezone.now()
        kind = {"succeeded": "ok", "failed": "failed"}.get(r.status, "run")
        out.append((kind, r.started_at, end, f"{step.label or step.key}: round {r.number}"))
        out.extend(_attempt_waits(r.calls, step))
        if r.retried_at and r.finished_at and r.retried_at - r.finished_at >= _MIN_WAIT:
            out.append(("wait", r.finished_at, r.retried_at, "waiting for a person to retry"))
    return out


def _attempt_waits(
    calls: list[StepAttempt], step: StepRun
) -> list[tuple[str, datetime, datetime, str]]:
    by_attempt: dict[int, list] = {}
    for call in calls:
        by_attempt.setdefault(call.attempt_no, []).append(call)
    numbers = sorted(by_attempt)
    waits = []
    for before, after in zip(numbers, numbers[1:], strict=False):
        ended = max(c.at for c in by_attempt[before])
        began = min(c.at - timedelta(milliseconds=c.duration_ms) for c in by_attempt[after])
        if began - ended >= _MIN_WAIT:
            waits.append(("wait", ended, began, f"{step.label or step.key}: waiting to retry"))
    return waits


def _x(moment: datetime, start: datetime, seconds: float) -> float:
    return round(LABEL_W + _SPAN * max(0.0, (moment - start).total_seconds()) / seconds, 1)


def run_timeline(req: ActionRequest, groups: list[dict[str, Any]]) -> Timeline | None:
    """The timeline of a started request (`groups` from `selectors.steps_by_system`)."""
    start = req.approved_at or req.started_at
    if start is None or req.started_at is None:
        return None
    intervals = {g["system"]: [i for s in g["steps"] for i in _intervals(s)] for g in groups}
    ends = [to for items in intervals.values() for _, _, to, _ in items]
    end = max([req.finished_at or start, *ends])
    seconds = max((end - start).total_seconds(), 0.001)
    rows = []
    for i, group in enumerate(groups):
        y = i * ROW_H + PAD
        segments = [
            Segment(
                kind,
                words,
                _x(since, start, seconds),
                max(1.0, _x(until, start, seconds) - _x(since, start, seconds)),
                y + (BAR_H / 4 if kind == "wait" else 0),
                FILLS[kind],
            )
            for kind, since, until, words in intervals[group["system"]]
        ]
        rows.append(_row(req, group, y, segments, start, seconds))
    return Timeline(rows, start, end)


def _union_width(segments: list[Segment]) -> float:
    """The width the segments cover together: two steps waiting at once count once."""
    total, reach = 0.0, 0.0
    for seg in sorted(segments, key=lambda x: x.x):
        start, end = max(seg.x, reach), seg.x + seg.width
        if end > start:
            total += end - start
        reach = max(reach, end)
    return total


def _row(
    req: ActionRequest,
    group: dict[str, Any],
    y: float,
    segments: list[Segment],
    start: datetime,
    seconds: float,
) -> SystemRow:
    lock = next(
        (
            s
            for s in group["steps"]
            if rounds.is_lockout_step(req.kind, s) and s.status == StepRun.Status.SUCCEEDED
        ),
        None,
    )
    lockout, marker = "", None
    if lock is not None and lock.finished_at:
        lockout = duration_words((lock.finished_at - start).total_seconds()) + " after approval"
        marker = _x(lock.finished_at, start, seconds)
    waited = _union_width([s for s in segments if s.kind == "wait"]) / _SPAN * seconds
    return SystemRow(
        system=group["system"],
        label=SystemChoices(group["system"]).label,
        y=y,
        text_y=y + BAR_H - 3,
        segments=segments,
        lockout=lockout,
        marker_x=marker,
        waited=duration_words(waited) if waited >= 0.5 else "",
    )
