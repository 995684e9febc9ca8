"""The dashboard's figures, scoped to what the user may see, and their bar charts as SVG geometry.

Charts are drawn by the template from the numbers here (presentation attributes only: the
Content-Security-Policy forbids inline styles), each with a text equivalent.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from offboarding import selectors, selectors_review, selectors_rounds
from offboarding.models import ActionRequest, SystemChoices
from offboarding.permissions import AnyUser
from offboarding.timefmt import duration_words

WINDOW_DAYS = 30
FILLS = {
    "ok": "#1a7f37",
    "warn": "#9a6700",
    "bad": "#b42318",
    "info": "#0b5cad",
    "idle": "#57606a",
}
# The same tones as _partials/_status_badge.html, so a state has one colour everywhere.
STATE_TONES = {
    "succeeded": "ok",
    "failed": "bad",
    "partially_failed": "bad",
    "rejected": "bad",
    "pending_approval": "warn",
    "expired": "warn",
    "scheduled": "warn",
    "draft": "warn",
    "running": "info",
    "approved": "info",
}

# Geometry of a horizontal bar chart, in SVG user units (the SVG scales to its box).
_WIDTH, _LABEL_W, _VALUE_W, _ROW_H, _BAR_H, _PAD = 480, 150, 90, 30, 20, 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    value_text: str
    fill: str
    y: float = 0
    text_y: float = 0
    width: float = 0
    value_x: float = 0


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    value_heading: str
    bars: list[Bar] = field(default_factory=list)
    empty_text: str = ""
    note: str = ""  # a sentence under the chart (issue 16: lockout without the waits for a retry)

    @property
    def label_width(self) -> int:
        return _LABEL_W

    @property
    def view_width(self) -> int:
        return _WIDTH

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * _ROW_H + _PAD

    @property
    def has_data(self) -> bool:
        return any(b.value for b in self.bars)

    @property
    def aria_label(self) -> str:
        if not self.has_data:
            return f"{self.title}: {self.empty_text}"
        return f"{self.title}: " + "; ".join(f"{b.label} {b.value_text}" for b in self.bars)


def bar_chart(
    key: str,
    title: str,
    value_heading: str,
    items: list[tuple[str, float, str, str]],
    empty: str,
    note: str = "",
) -> Chart:
    """items: (label, value, value in words, fill colour). Bars are scaled to the largest value."""
    top = max((v for _, v, _, _ in items), default=0) or 1
    span = _WIDTH - _LABEL_W - _VALUE_W
    bars = []
    for i, (label, value, text, fill) in enumerate(items):
        width = round(span * value / top, 1) if value else 0
        y = i * _ROW_H + _PAD
        bars.append(
            Bar(
                label=label,
                value=value,
                value_text=text,
                fill=fill,
                y=y,
                text_y=y + _BAR_H - 5,
                width=width,
                value_x=_LABEL_W + width + 6,
            )
        )
    return Chart(key, title, value_heading, bars, empty, note)


@dataclass(frozen=True)
class Figures:
    by_state: Chart
    lockout: Chart
    failures: Chart
    since: datetime
    at: datetime
    lockout_medians: dict[str, float | None]
    lockout_counts: dict[str, int]
    failure_counts: dict[str, int]
    state_counts: dict[str, int]
    lockout_medians_without_waits: dict[str, float | None] = field(default_factory=dict)

    @property
    def charts(self) -> list[Chart]:
        return [self.by_state, self.lockout, self.failures]


def _state_chart(counts: dict[str, int]) -> Chart:
    return bar_chart(
        "by-state",
        "Requests by state",
        "Requests",
        [
            (label, counts[value], str(counts[value]), FILLS[STATE_TONES.get(value, "idle")])
            for value, label in ActionRequest.State.choices
            if counts.get(value)
        ],
        "no requests yet",
    )


def _lockout_words(median: float | None, count: int) -> str:
    return f"{duration_words(median)} ({count})" if median is not None else "no lockouts"


def _without_waits_note(medians: dict[str, float | None], without: dict[str, float | None]) -> str:
    parts = [
        f"{label} {duration_words(without[value] or 0)}"
        for value, label in SystemChoices.choices
        if medians[value] is not None and without[value] != medians[value]
    ]
    if not parts:
        return ""
    return "Without the waits for a person to retry a failed step: " + ", ".join(parts) + "."


def _lockout_chart(
    medians: dict[str, float | None],
    durations: dict[str, list[float]],
    without: dict[str, float | None],
) -> Chart:
    return bar_chart(
        "lockout",
        f"Median time to lockout per system, last {WINDOW_DAYS} days",
        "Median (lockouts)",
        [
            (
                label,
                medians[value] or 0,
                _lockout_words(medians[value], len(durations.get(value, []))),
                FILLS["info"],
            )
            for value, label in SystemChoices.choices
        ],
        f"no lockouts in the last {WINDOW_DAYS} days",
        _without_waits_note(medians, without),
    )


def _failure_chart(failures: dict[str, int]) -> Chart:
    return bar_chart(
        "failures",
        f"Failed steps per system, last {WINDOW_DAYS} days (retried ones included)",
        "Failed steps",
        [
            (label, failures.get(value, 0), str(failures.get(value, 0)), FILLS["bad"])
            for value, label in SystemChoices.choices
        ],
        f"no failed steps in the last {WINDOW_DAYS} days",
    )


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def dashboard_figures(user: AnyUser, *, now: datetime | None = None) -> Figures:
    """Requests by state; median approval-to-lockout and failed steps per system over 30 days,
    counting only the requests the user may see (`permissions.visible_requests`)."""
    now = now or timezone.now()
    since = now - timedelta(days=WINDOW_DAYS)
    scope = selectors.action_requests_visible_to(user)
    counts = selectors.request_counts_by_state(scope)
    times = selectors_rounds.lockout_times(scope, since=since)
    durations = {s: [total for total, _ in rows] for s, rows in times.items()}
    failures = selectors_rounds.step_failures_by_system(scope, since=since)
    medians = {s: _median(durations.get(s, [])) for s in SystemChoices.values}
    without = {
        s: _median([total - waited for total, waited in times.get(s, [])])
        for s in SystemChoices.values
    }
    return Figures(
        by_state=_state_chart(counts),
        lockout=_lockout_chart(medians, durations, without),
        failures=_failure_chart(failures),
        since=since,
        at=now,
        lockout_medians=medians,
        lockout_medians_without_waits=without,
        lockout_counts={s: len(durations.get(s, [])) for s in SystemChoices.values},
        failure_counts={s: failures.get(s, 0) for s in SystemChoices.values},
        state_counts=counts,
    )


def review_alerts(user: AnyUser) -> selectors_review.ReviewSummary:
    """Runs made without prior approval that stand out (issue 14): unreviewed (overdue among
    them) and flagged in the last 30 days, among the requests the user may see."""
    return selectors_review.review_summary_for(user)
