"""Reads for the after-the-fact review queue (issue 14): what waits, what is overdue or flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from offboarding import permissions
from offboarding.models import ActionRequest, AfterTheFactReview
from offboarding.permissions import AnyUser

Decision = AfterTheFactReview.Decision
RECENT_DAYS = 30


def reviews_visible_to(user: AnyUser) -> QuerySet[AfterTheFactReview]:
    """Reviews of the requests the user may see (`permissions.visible_requests`)."""
    visible = ActionRequest.objects.filter(permissions.visible_requests(user)).values("pk")
    return AfterTheFactReview.objects.filter(action_request__in=visible).select_related(
        "action_request", "action_request__requester", "reviewer"
    )


def review_queue_for(
    user: AnyUser, *, now: datetime | None = None, done_limit: int = 50
) -> tuple[list[AfterTheFactReview], list[AfterTheFactReview]]:
    """(waiting, oldest due first; reviewed in the last 30 days, newest first)."""
    now = now or timezone.now()
    scope = reviews_visible_to(user)
    waiting = list(scope.filter(decision=Decision.PENDING).order_by("due_at", "id"))
    done = list(
        scope.exclude(decision=Decision.PENDING)
        .filter(reviewed_at__gte=now - timedelta(days=RECENT_DAYS))
        .order_by("-reviewed_at", "-id")[:done_limit]
    )
    return waiting, done


def reviews_waiting_for(user: AnyUser) -> int:
    """Runs this user may review that nobody has reviewed yet (not their own): the nav count."""
    if not permissions.can_review_runs(user):
        return 0
    return (
        reviews_visible_to(user)
        .filter(decision=Decision.PENDING)
        .exclude(action_request__requester_id=user.pk)
        .count()
    )


@dataclass(frozen=True)
class ReviewSummary:
    waiting: int
    overdue: int
    flagged: int

    @property
    def stands_out(self) -> bool:
        return bool(self.waiting or self.flagged)


def review_summary_for(user: AnyUser, *, now: datetime | None = None) -> ReviewSummary:
    """Unreviewed (of which overdue) and recently flagged runs among the requests the user sees."""
    now = now or timezone.now()
    pending = Q(decision=Decision.PENDING)
    counts = reviews_visible_to(user).aggregate(
        waiting=Count("id", filter=pending),
        overdue=Count("id", filter=pending & Q(due_at__lte=now)),
        flagged=Count(
            "id",
            filter=Q(decision=Decision.FLAGGED, reviewed_at__gte=now - timedelta(days=RECENT_DAYS)),
        ),
    )
    return ReviewSummary(counts["waiting"], counts["overdue"], counts["flagged"])


def reviews_by_request(request_ids: list[int]) -> dict[int, AfterTheFactReview]:
    """The reviews of these requests (one query), for badges in lists."""
    rows = AfterTheFactReview.objects.filter(action_request_id__in=request_ids).only(
        "id", "action_request_id", "why", "decision", "due_at"
    )
    return {r.action_request_id: r for r in rows}
