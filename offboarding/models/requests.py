"""Requests and the approvals on them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from connections.types import System, Target
from offboarding import playbooks
from offboarding.lifecycle import OPEN_REQUEST_STATES, RequestState, TransitionQuerySet

# The systems, as declared once in connections (values and labels).
SystemChoices = System


class ActionRequest(models.Model):
    """One action (reset sessions, offboard, reinstate) for one person, from request to result."""

    class Kind(models.TextChoices):
        RESET_SESSIONS = "reset_sessions", "Reset sessions"
        OFFBOARD = "offboard", "Offboard"
        REINSTATE = "reinstate", "Reinstate"

    class Origin(models.TextChoices):
        PORTAL = "portal", "The portal's form"
        API = "api", "The REST API"
        BULK = "bulk", "A bulk batch"
        EVENT_HOOK = "event_hook", "An Okta event"
        BREAK_GLASS = "break_glass", "Break-glass"

    State = RequestState

    OPEN_STATES = OPEN_REQUEST_STATES
    NOT_STARTED_STATES = (State.DRAFT, State.PENDING_APPROVAL, State.APPROVED, State.SCHEDULED)
    FINAL_STATES = (
        State.SUCCEEDED,
        State.PARTIALLY_FAILED,
        State.FAILED,
        State.REJECTED,
        State.EXPIRED,
        State.CANCELLED,
    )

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    state_note = models.TextField(
        blank=True, help_text="Why the request is in its state, in words."
    )
    # The target as Okta described them when the request was made.
    target_okta_id = models.CharField(max_length=64)
    target_login = models.CharField(max_length=254)
    target_name = models.CharField(max_length=254, blank=True)
    target_email = models.CharField(max_length=254, blank=True)
    target_status = models.CharField(max_length=32, blank=True)
    target_profile = models.JSONField(default=dict, blank=True)
    systems = models.JSONField(default=list)
    options = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.PORTAL)
    origin_detail = models.CharField(
        max_length=200, blank=True, help_text="e.g. the API token's name, the Okta event's uuid."
    )
    ticket = models.CharField(max_length=100, blank=True)
    batch = models.ForeignKey(
        "Batch", on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    plan = models.JSONField(default=list, blank=True, help_text="Pre-flight plan at submission.")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_requests"
    )
    delegation = models.ForeignKey(
        "Delegation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approver_group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    fingerprint = models.CharField(max_length=64)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The live Okta check the deciding approval made (time, fingerprint, login, groups), so the
    # start need not repeat it moments later: runner.start reuses it within a short window.
    live_check = models.JSONField(default=dict, blank=True, editable=False)
    # Issue 13: the offboard a reinstate undoes (its step results say what to put back).
    undoes = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="undone_by",
        help_text="For a reinstate: the offboard whose removals it restores.",
    )

    objects = TransitionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The database, not only the service's check, keeps two submissions at the same
            # instant from both passing.
            models.UniqueConstraint(
                fields=["kind", "target_okta_id"],
                condition=models.Q(state__in=OPEN_REQUEST_STATES),
                name="request_one_open_per_action_and_person",
            )
        ]
        indexes = [
            models.Index(fields=["state", "expires_at"]),
            models.Index(fields=["state", "scheduled_for"]),
            models.Index(fields=["target_okta_id"]),
            # History pages by (requested_at, id), newest first, with a keyset cursor.
            models.Index(fields=["-requested_at", "-id"], name="request_history_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.target_login} (#{self.pk})"

    # Django keeps a get_FOO_display the class defines itself; the stubs do not know that.
    def get_kind_display(self) -> str:  # type: ignore[no-redef]
        """The action's label, custom playbooks (issue 17) included."""
        return playbooks.kind_label(self.kind)

    @property
    def target(self) -> Target:
        return Target(
            okta_id=self.target_okta_id,
            login=self.target_login,
            email=self.target_email,
            first_name=str(self.target_profile.get("firstName", "")),
            last_name=str(self.target_profile.get("lastName", "")),
            profile=dict(self.target_profile),
        )

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class Approval(models.Model):
    """One person's decision on one request, bound to the fingerprint of what they saw."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    action_request = models.ForeignKey(
        ActionRequest, on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["action_request", "approver", "fingerprint", "decision"],
                name="approval_one_decision_per_person_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.approver} {self.decision} #{self.action_request_id}"
