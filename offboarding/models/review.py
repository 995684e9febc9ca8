"""After-the-fact reviews: a run that went ahead without prior approval waits for an approver's
verdict (issue 14: break-glass runs, and the automatic runs Okta events start)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from offboarding.models.requests import ActionRequest


class AfterTheFactReview(models.Model):
    """One request that ran without prior approval, and the approver's verdict on it afterwards."""

    class Decision(models.TextChoices):
        PENDING = "", "Awaiting review"
        ACCEPTED = "accepted", "Accepted"
        FLAGGED = "flagged", "Flagged"

    action_request = models.OneToOneField(
        ActionRequest, on_delete=models.CASCADE, related_name="review"
    )
    why = models.CharField(
        max_length=200, help_text="Why no one approved it first, e.g. 'Break-glass by rory'."
    )
    due_at = models.DateTimeField(help_text="Reviewed by then, or it shows as overdue.")
    decision = models.CharField(
        max_length=10, choices=Decision.choices, default=Decision.PENDING, blank=True
    )
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviews",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["decision", "due_at"], name="review_queue_idx")]
        constraints = [
            # A verdict always names who gave it and when; a pending review names nobody.
            models.CheckConstraint(
                condition=(
                    models.Q(decision="", reviewer__isnull=True, reviewed_at__isnull=True)
                    | (
                        models.Q(decision__in=["accepted", "flagged"])
                        & models.Q(reviewer__isnull=False, reviewed_at__isnull=False)
                    )
                ),
                name="review_verdict_has_reviewer",
            )
        ]

    def __str__(self) -> str:
        return f"Review of #{self.action_request_id}: {self.status_label()}"

    @property
    def is_pending(self) -> bool:
        return self.decision == self.Decision.PENDING

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Still unreviewed after its window (PORTAL_REVIEW_WINDOW_HOURS)."""
        return self.is_pending and self.due_at <= (now or timezone.now())

    def status(self, now: datetime | None = None) -> str:
        """pending, overdue, accepted or flagged."""
        if self.is_overdue(now):
            return "overdue"
        return self.decision or "pending"

    def status_label(self, now: datetime | None = None) -> str:
        return {
            "pending": "Awaiting review",
            "overdue": "Review overdue",
            "accepted": "Review: accepted",
            "flagged": "Review: flagged",
        }[self.status(now)]
