"""Reads for the bulk pages: a batch for a user, the approvers' pending batches, a batch's
progress per system and overall (a few GROUP BY queries, whatever the batch's size)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.http import Http404
from django.utils import timezone

from connections.types import SYSTEM_LABELS, System
from offboarding import permissions
from offboarding.models import ActionRequest, Batch, BatchRow, StepRun
from offboarding.runner.pacing import rate_paused_until

S = StepRun.Status
RS = ActionRequest.State
_RATE_WORDS = "waiting for the API's rate limit"
BUCKETS = ("done", "running", "rate_limited", "waiting", "failed", "skipped")
BUCKET_LABELS = {
    "done": "done",
    "running": "running",
    "rate_limited": "waiting (rate limited)",
    "waiting": "waiting",
    "failed": "failed",
    "skipped": "skipped",
}


def batch_for_user(user: permissions.AnyUser, pk: int) -> Batch:
    """The batch, or 404 when it does not exist or the user may not see it."""
    batch = Batch.objects.select_related("requester", "approver_group").filter(pk=pk).first()
    if batch is None or not permissions.can_view_batch(user, batch):
        raise Http404("No such batch.")
    return batch


def batches_pending_for(user: permissions.AnyUser) -> QuerySet[Batch]:
    """Batches waiting for an approver group the user belongs to (the Approvals page)."""
    if not permissions.can_approve(user):
        return Batch.objects.none()
    return (
        Batch.objects.filter(
            state=Batch.State.PENDING_APPROVAL,
            approver_group__in=user.groups.all(),
            expires_at__gt=timezone.now(),
        )
        .select_related("requester")
        .order_by("submitted_at", "id")
    )


def batches_of(user: permissions.AnyUser) -> QuerySet[Batch]:
    """The user's own recent batches (the bulk page's list)."""
    return Batch.objects.filter(requester_id=user.pk).order_by("-created_at", "-id")[:20]


def batch_rows(batch: Batch, *, limit: int = 500) -> list[BatchRow]:
    """The first rows of the batch (the page shows these; the CSV export has every row)."""
    return list(batch.rows.select_related("action_request").order_by("line", "id")[:limit])


def _bucket(status: str, rate_limited: bool) -> str:
    if status == S.SUCCEEDED:
        return "done"
    if status == S.RUNNING:
        return "running"
    if status == S.FAILED:
        return "failed"
    if status in (S.SKIPPED, S.CANCELLED):
        return "skipped"
    return "rate_limited" if rate_limited else "waiting"


@dataclass
class Progress:
    systems: list[dict[str, Any]] = field(default_factory=list)
    overall: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    total: int = 0
    finished: int = 0
    unreleased: int = 0  # found rows whose request the release task has not made yet
    seconds_left: float | None = None

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.done else 0
        return int(100 * self.finished / self.total)

    @property
    def request_labels(self) -> list[tuple[str, int]]:
        return [(RS(state).label, n) for state, n in sorted(self.requests.items())]

    @property
    def done(self) -> bool:
        """Every row released, every step ended and every request ended (the page stops polling
        when this turns true, so it must never be true early)."""
        ended = all(state in ActionRequest.FINAL_STATES for state in self.requests)
        return self.unreleased == 0 and self.finished == self.total and ended


def batch_progress(batch: Batch, *, now: datetime | None = None) -> Progress:
    """Steps per system and bucket, requests per state, and an estimate of the time left."""
    now = now or timezone.now()
    # Read in this order, each query on its own snapshot: the rows still to release first, then
    # the steps, then the requests. A release makes its requests and their steps in one
    # transaction, and steps and requests only move towards their end, so a release or a finish
    # that commits between two reads can only make the page say less is done, never more. Read
    # the other way round, a release committed between the step count (none yet) and the row
    # count (none left) made an untouched batch read "100%, finished" and stop updating.
    unreleased = batch.rows.filter(
        verdict=BatchRow.Verdict.FOUND, action_request__isnull=True
    ).count()
    steps = StepRun.objects.filter(action_request__batch=batch)
    rows = steps.values("system", "status", "waiting_for_slot", "last_error").annotate(
        n=Count("id")
    )
    per_system: dict[str, dict[str, int]] = {}
    paused = {s: rate_paused_until(s) for s in System.values}
    for r in rows:
        limited = r["status"] in StepRun.CLAIMABLE and (
            bool(paused.get(r["system"]))
            or r["waiting_for_slot"]
            or str(r["last_error"]).startswith(_RATE_WORDS)
        )
        counts = per_system.setdefault(r["system"], dict.fromkeys(BUCKETS, 0))
        counts[_bucket(r["status"], limited)] += r["n"]
    progress = Progress(overall=dict.fromkeys(BUCKETS, 0), unreleased=unreleased)
    for system, counts in sorted(per_system.items()):
        for key, n in counts.items():
            progress.overall[key] += n
        until = paused.get(system)
        progress.systems.append(
            {
                "system": system,
                "label": SYSTEM_LABELS[System(system)],
                "counts": counts,
                "paused_until": until,
            }
        )
    progress.total = sum(progress.overall.values())
    progress.finished = sum(progress.overall[k] for k in ("done", "failed", "skipped"))
    progress.requests = dict(
        ActionRequest.objects.filter(batch=batch)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    progress.seconds_left = _seconds_left(batch, progress, now, paused)
    return progress


def _seconds_left(
    batch: Batch, progress: Progress, now: datetime, paused: dict[str, datetime | None]
) -> float | None:
    """The release schedule's remaining length (paced to stay within the rate limits), plus
    one request's typical duration, and never less than the longest rate-limit pause."""
    if progress.done:
        return 0.0
    spacing = 60.0 / max(1, int(settings.OFFBOARDING_BULK_PER_MINUTE))
    waiting = ActionRequest.objects.filter(batch=batch, state__in=(RS.SCHEDULED, RS.APPROVED))
    last_start = waiting.aggregate(last=Max("scheduled_for"))["last"]
    left = max(0.0, (last_start - now).total_seconds()) if last_start else 0.0
    left += progress.unreleased * spacing
    finished = list(
        ActionRequest.objects.filter(
            batch=batch, finished_at__isnull=False, started_at__isnull=False
        ).values_list("started_at", "finished_at")[:200]
    )
    durations = sorted((f - s).total_seconds() for s, f in finished if s and f)
    left += durations[len(durations) // 2] if durations else 0.0
    pauses = [(u - now).total_seconds() for u in paused.values() if u is not None]
    return max([left, *pauses])


def batch_export_rows(batch: Batch) -> QuerySet[BatchRow]:
    """Every row with its request's state, for the CSV export (streamed)."""
    return batch.rows.select_related("action_request").order_by("line", "id")
