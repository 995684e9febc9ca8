"""Requests, approvals, step runs and their attempts, delegations, protected groups, audit events."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models

from connections.types import System, Target
from offboarding.audit_models import AuditChainHead as AuditChainHead
from offboarding.audit_models import AuditCheckpoint as AuditCheckpoint
from offboarding.audit_models import AuditWatermark as AuditWatermark
from offboarding.lifecycle import OPEN_REQUEST_STATES, RequestState, StepStatus, TransitionQuerySet

# The systems, as declared once in connections (values and labels).
SystemChoices = System


class ActionRequest(models.Model):
    """One action (reset sessions, offboard, reinstate) for one person, from request to result."""

    class Kind(models.TextChoices):
        RESET_SESSIONS = "reset_sessions", "Reset sessions"
        OFFBOARD = "offboard", "Offboard"
        REINSTATE = "reinstate", "Reinstate"

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
    ticket = models.CharField(max_length=100, blank=True)
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


class StepRun(models.Model):
    """One operation in one system for one request, with its lease and retry bookkeeping."""

    Status = StepStatus

    class Outcome(models.TextChoices):
        NONE = "", "—"
        DONE = "done", "Done"
        ALREADY_DONE = "already_done", "Already done"
        NO_ACCOUNT = "no_account", "No account"

    class CancelReason(models.TextChoices):
        NONE = "", "—"
        USER = "user", "Cancelled by a person"
        DEPENDENCY = "dependency", "A step it needed did not succeed"
        REFUSED = "refused", "The request was refused before running"

    TERMINAL = (Status.SUCCEEDED, Status.SKIPPED, Status.FAILED, Status.CANCELLED)
    CLAIMABLE = (Status.READY, Status.RETRYING)
    NOT_STARTED = (Status.WAITING, Status.READY, Status.RETRYING)

    action_request = models.ForeignKey(
        ActionRequest, on_delete=models.CASCADE, related_name="steps"
    )
    key = models.CharField(max_length=64, help_text="e.g. okta.suspend; unique per request.")
    position = models.PositiveSmallIntegerField(default=0)
    system = models.CharField(max_length=16, choices=SystemChoices.choices)
    operation = models.CharField(max_length=64)
    label = models.CharField(max_length=120, blank=True)
    options = models.JSONField(default=dict, blank=True)
    depends_on = models.JSONField(default=list, blank=True, help_text="Keys of steps to wait for.")
    after_all = models.BooleanField(
        default=False, help_text="Runs only when every other step succeeded or was skipped."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    detail = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    crash_count = models.PositiveSmallIntegerField(default=0)
    probe_first = models.BooleanField(
        default=False, help_text="The last outcome is unknown: read the account before acting."
    )
    waiting_for_slot = models.BooleanField(default=False)
    cancel_reason = models.CharField(max_length=12, choices=CancelReason.choices, blank=True)
    lease_owner = models.CharField(max_length=36, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TransitionQuerySet.as_manager()

    class Meta:
        ordering = ["action_request_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["action_request", "key"], name="step_key_per_request")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["system", "status"]),
            models.Index(fields=["status", "lease_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status}) of #{self.action_request_id}"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def system_label(self) -> str:
        return SystemChoices(self.system).label


class StepAttempt(models.Model):
    """One HTTP exchange (or one result) of one attempt of a step. Never a secret or a body."""

    step = models.ForeignKey(StepRun, on_delete=models.CASCADE, related_name="attempt_records")
    attempt_no = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    stale = models.BooleanField(
        default=False, help_text="A late result from a lost lease: recorded, never applied."
    )
    lease_owner = models.CharField(max_length=36, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["step_id", "attempt_no", "id"]

    def __str__(self) -> str:
        return f"attempt {self.attempt_no} of step {self.step_id}"


class Delegation(models.Model):
    """A team may request these actions for members of these Okta groups, approved by that group."""

    name = models.CharField(max_length=120)
    team = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="delegations")
    allowed_actions = models.JSONField(default=list, help_text="Action kinds the team may request.")
    target_group_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Okta group ids whose members may be targeted; empty = all.",
    )
    approver_group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    expiry_hours = models.PositiveIntegerField(default=72)
    reset_sessions_without_approval = models.BooleanField(
        default=False,
        help_text="Reset sessions runs at once, without approval (incident policy; never offboard).",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approvals_needed__gte=1),
                name="delegation_approvals_at_least_one",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_hours__gte=1), name="delegation_expiry_at_least_one_hour"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProtectedGroup(models.Model):
    """Members of this Okta group can never be targeted through the portal."""

    okta_group_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.okta_group_id


class AppendOnlyError(PermissionDenied):
    """Audit events are never changed or removed."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be updated.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list:
        raise AppendOnlyError("Audit events are appended one by one through audit_record().")


class AuditEvent(models.Model):
    """One link of the tamper-evident chain. Written only by offboarding.audit (record and link)."""

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_OUT = "sign_out", "Signed out"
        USER_SEARCH = "user_search", "Searched users"
        USER_VIEW = "user_view", "Viewed a user"
        REQUEST_SUBMITTED = "request_submitted", "Request submitted"
        REQUEST_CHANGED = "request_changed", "Request changed"
        REQUEST_APPROVED = "request_approved", "Approval given"
        REQUEST_REJECTED = "request_rejected", "Request rejected"
        REQUEST_CANCELLED = "request_cancelled", "Request cancelled"
        REQUEST_EXPIRED = "request_expired", "Request expired"
        REQUEST_STARTED = "request_started", "Request started"
        REQUEST_REFUSED = "request_refused", "Request refused before running"
        REQUEST_FINISHED = "request_finished", "Request finished"
        STEP_OUTCOME = "step_outcome", "Step outcome"
        STEP_RETRY_SYSTEM = "step_retry_system", "Retry of a system's failed steps"
        CONNECTION_CHANGED = "connection_changed", "Connection changed"
        DELEGATION_CHANGED = "delegation_changed", "Delegation changed"
        PROTECTED_GROUP_CHANGED = "protected_group_changed", "Protected group changed"
        EXPORT = "export", "Export"
        AUDIT_VERIFIED = "audit_verified", "Audit chain verified"

    # Empty while the event is sealed but not yet linked (see offboarding/audit/chain.py).
    seq = models.PositiveBigIntegerField(unique=True, null=True, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=254, blank=True, help_text="The person acted upon.")
    ip = models.CharField(max_length=45, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["action", "at"]),
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["at"]),
            models.Index(
                fields=["id"],
                name="offboarding_audit_pending",
                condition=models.Q(seq__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")
