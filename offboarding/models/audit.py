"""The append-only audit event (one link of the chain)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models


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
        # Reserved for the features being built in parallel (issues 13-17), declared once here.
        SYSTEM_VERIFIED = "system_verified", "System read back after the steps"
        EVIDENCE_DOWNLOADED = "evidence_downloaded", "Evidence pack downloaded"
        HOOK_EVENT = "hook_event", "Okta event received"
        HOOK_EVENT_IGNORED = "hook_event_ignored", "Okta event ignored"
        HOOK_CHANGED = "hook_changed", "Event hook changed"
        POLICY_CHANGED = "policy_changed", "Event policy changed"
        DRIFT_ALERT = "drift_alert", "Drift alert"
        BREAK_GLASS = "break_glass", "Break-glass run"
        BREAK_GLASS_REVIEWED = "break_glass_reviewed", "Break-glass run reviewed"
        API_CALL = "api_call", "API call"
        API_TOKEN_CHANGED = "api_token_changed", "API token changed"
        BATCH_SUBMITTED = "batch_submitted", "Batch submitted"
        BATCH_APPROVED = "batch_approved", "Batch approved"
        BATCH_REJECTED = "batch_rejected", "Batch rejected"
        APPROVERS_REMINDED = "approvers_reminded", "Approvers reminded"
        PLAYBOOK_IMPORTED = "playbook_imported", "Playbook imported"
        PLAYBOOK_EXPORTED = "playbook_exported", "Playbook exported"

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
