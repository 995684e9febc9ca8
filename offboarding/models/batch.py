"""Bulk batches: one action for many people, previewed row by row, approved once."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from offboarding.models.requests import ActionRequest, SystemChoices


class Batch(models.Model):
    """An uploaded file (or an Okta group) turned into one action for many people.

    A draft is the preview; submitting sends it to the approvers; approving it creates one
    ActionRequest per valid row (origin "bulk", `batch` set), released at a pace (see
    `offboarding.services.bulk`).
    """

    class State(models.TextChoices):
        DRAFT = "draft", "Preview"
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        DISCARDED = "discarded", "Discarded"

    class Source(models.TextChoices):
        FILE = "file", "A CSV file"
        GROUP = "group", "An Okta group"

    kind = models.CharField(max_length=20, choices=ActionRequest.Kind.choices)
    systems = models.JSONField(default=list)
    options = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    ticket = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    source_detail = models.CharField(max_length=200, blank=True, help_text="File name or group.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    state_note = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Rows per verdict.")
    lookup = models.JSONField(default=dict, blank=True, help_text="How Okta was read.")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batches"
    )
    approver_group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "approver_group"])]

    def __str__(self) -> str:
        return f"Batch #{self.pk} ({self.kind}, {self.counts.get('valid', 0)} people)"

    @property
    def system_labels(self) -> list[str]:
        return [SystemChoices(s).label for s in self.systems if s in SystemChoices.values]

    @property
    def valid_count(self) -> int:
        return int(self.counts.get("valid", 0))


class BatchRow(models.Model):
    """One row of a batch with its verdict; a valid row becomes an ActionRequest on approval."""

    class Verdict(models.TextChoices):
        FOUND = "found", "Found"
        INVALID = "invalid", "Not readable"
        UNKNOWN = "unknown", "Unknown in Okta"
        PROTECTED = "protected", "Protected"
        OUT_OF_SCOPE = "out_of_scope", "Outside your scope"
        DUPLICATE = "duplicate", "Duplicate in the file"
        OPEN_REQUEST = "open_request", "Already has an open request"
        OFFBOARDED = "offboarded", "Already offboarded"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    identity = models.CharField(max_length=254)
    reason = models.TextField(blank=True)
    ticket = models.CharField(max_length=100, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    detail = models.CharField(max_length=300, blank=True)
    okta_id = models.CharField(max_length=64, blank=True)
    login = models.CharField(max_length=254, blank=True)
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=32, blank=True)
    profile = models.JSONField(default=dict, blank=True)
    delegation = models.ForeignKey(
        "Delegation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action_request = models.OneToOneField(
        "ActionRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="batch_row"
    )

    class Meta:
        ordering = ["batch_id", "line", "id"]
        indexes = [models.Index(fields=["batch", "verdict"])]

    def __str__(self) -> str:
        return f"row {self.line} of batch {self.batch_id}: {self.identity} ({self.verdict})"

    @property
    def valid(self) -> bool:
        return self.verdict == self.Verdict.FOUND


class BatchDecision(models.Model):
    """One approver's decision on a whole batch, bound to the fingerprint of what they saw."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="decisions")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batch_decisions"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "approver", "fingerprint"], name="batch_one_decision_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision} batch {self.batch_id}"
