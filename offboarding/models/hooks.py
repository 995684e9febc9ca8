"""Okta event hooks (issue 14): the hook per Okta connection, deliveries and events received
(de-duplicated by Okta's ids), the policies that turn an event into an action, and the System Log
reconciliation's cursor."""

from __future__ import annotations

from typing import Any

from django.db import models

from connections import crypto
from connections.models import Connection
from offboarding.models.requests import ActionRequest

# The Okta event types the portal subscribes to (CONTRACTS.md §1.6): the hook registers these and
# the System Log reconciliation reads them.
EVENT_TYPES = (
    "user.lifecycle.suspend",
    "user.lifecycle.unsuspend",
    "user.lifecycle.reactivate",
    "user.lifecycle.deactivate",
    "user.account.report_suspicious_activity_by_enduser",
    "group.user_membership.add",
)


class EventHook(models.Model):
    """The portal's endpoint for one Okta connection: the header Okta sends and its secret (stored
    encrypted, write-only), and what the Connections page shows about it."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="+")
    header_name = models.CharField(max_length=64, default="Authorization")
    secret_ciphertext = models.TextField(blank=True, default="", editable=False)
    secret_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    okta_hook_id = models.CharField(max_length=64, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    duplicates_ignored = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Okta event hook of {self.connection}"

    def _bind(self) -> str:
        return f"eventhook:{self.connection_id}:secret"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_ciphertext)

    def set_secret(self, value: str) -> None:
        """Encrypt the header value Okta will send (not saved here)."""
        self.secret_ciphertext = crypto.encrypt_secret({"value": value}, bind=self._bind())

    def decrypt_secret(self) -> str:
        """The header value; raises SecretUnavailable. Never log or render it."""
        data: dict[str, Any] = crypto.decrypt_secret(self.secret_ciphertext, bind=self._bind())
        return str(data.get("value", ""))


class HookDelivery(models.Model):
    """One POST from Okta, kept once per envelope `eventId` (a retried delivery repeats it)."""

    hook = models.ForeignKey(EventHook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=100, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)
    event_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"Okta delivery {self.event_id}"


class HookEvent(models.Model):
    """One Okta System Log event, once per `uuid`, whether a delivery or the reconciliation
    brought it; `outcome` says in words what the portal did with it."""

    class Source(models.TextChoices):
        HOOK = "hook", "Event hook"
        SYSLOG = "syslog", "System Log reconciliation"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        DONE = "done", "Acted on"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Could not be handled"

    uuid = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=120)
    published = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    delivery = models.ForeignKey(
        HookDelivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    okta_user_id = models.CharField(max_length=64, blank=True)
    okta_group_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    outcome = models.TextField(blank=True)
    action_request = models.ForeignKey(
        ActionRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.uuid}"


class EventPolicy(models.Model):
    """An Okta event type (optionally only for members of one Okta group) → an action."""

    class Action(models.TextChoices):
        RESET_SESSIONS = "reset_sessions", "Reset sessions everywhere"
        OFFBOARD = "offboard", "Offboard"
        DRIFT_ALERT = "drift_alert", "Alert the approvers (drift)"

    class Mode(models.TextChoices):
        AUTOMATIC = "automatic", "Automatic (reviewed afterwards)"
        APPROVAL = "approval", "Needs approval"

    name = models.CharField(max_length=120)
    event_type = models.CharField(max_length=120)
    okta_group_id = models.CharField(
        max_length=64, blank=True, help_text="Only events about this Okta group; empty = any."
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.APPROVAL)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_type", "id"]
        constraints = [
            # "Automatic" only ever resets sessions: nothing destructive runs without a person.
            models.CheckConstraint(
                condition=~models.Q(mode="automatic") | models.Q(action="reset_sessions"),
                name="eventpolicy_automatic_only_reset_sessions",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SyslogCursor(models.Model):
    """Where the System Log reconciliation resumes: Okta's `next` link, stored after each page."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="+")
    next_url = models.TextField(blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_found = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"System Log cursor of {self.connection}"
