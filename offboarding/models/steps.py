"""Step runs (one operation in one system) and the attempts that carried them out."""

from __future__ import annotations

from django.db import models

from offboarding.lifecycle import StepStatus, TransitionQuerySet
from offboarding.models.requests import ActionRequest, SystemChoices


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
    result = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the step changed (OperationResult.data), e.g. removed group ids.",
    )
    last_error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    crash_count = models.PositiveSmallIntegerField(default=0)
    probe_first = models.BooleanField(
        default=False, help_text="The last outcome is unknown: read the account before acting."
    )
    waiting_for_slot = models.BooleanField(default=False)
    # Issue 16: a retry starts a new round instead of erasing the failed one.
    round = models.PositiveSmallIntegerField(
        default=1, help_text="1, then one more each time a person retries the step."
    )
    earlier_rounds = models.JSONField(
        default=list,
        blank=True,
        help_text="Each finished round before this one: attempts, error, started/finished/retried at.",
    )
    cancel_reason = models.CharField(max_length=12, choices=CancelReason.choices, blank=True)
    lease_owner = models.CharField(max_length=36, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    followed = models.BooleanField(
        default=False,
        help_text="Made ready for the task that made it ready to run on a thread (runner.chain), "
        "not queued: the sweeper queues it if still unclaimed OFFBOARDING_FOLLOW_REQUEUE_AFTER "
        "seconds after enqueued_at (the task may have died).",
    )
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
    round = models.PositiveSmallIntegerField(default=1)
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
        ordering = ["step_id", "round", "attempt_no", "id"]

    def __str__(self) -> str:
        return f"attempt {self.attempt_no} (round {self.round}) of step {self.step_id}"
