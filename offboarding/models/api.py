"""The REST API's own rows: tokens for integrations and the idempotency keys of their creates."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from offboarding.models.requests import ActionRequest

# A token reads "opk_<8 hex>_<43 random characters>"; the part before the second "_" is its prefix.
TOKEN_MARK = "opk_"  # noqa: S105 (a marker, not a secret)
PREFIX_LENGTH = len(TOKEN_MARK) + 8


def token_hash(raw: str) -> str:
    """The stored form of a token. Tokens carry 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token of one integration, tied to a team (what it may do) and to scopes.

    Only a SHA-256 of the token is kept; `prefix` (shown, not secret) finds the row. The token acts
    through its own service user (`service_user`, named ``api:<name>``, member of `team` only, no
    role, no usable password): requests it makes are that user's, so nobody approves through it.
    """

    class Scope(models.TextChoices):
        PEOPLE_READ = "people:read", "Look people up"
        REQUESTS_CREATE = "requests:create", "Create requests"
        REQUESTS_READ = "requests:read", "Read and list requests"
        REQUESTS_CANCEL = "requests:cancel", "Cancel requests"

    name = models.CharField(max_length=80, unique=True)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public: finds the token.")
    token_hash = models.CharField(max_length=64, help_text="SHA-256 of the whole token, hex.")
    team = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    scopes = models.JSONField(default=list)
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_token"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def state_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class ApiIdempotencyKey(models.Model):
    """The first answer to a create sent with an `Idempotency-Key`, replayed for the same key and
    body. `status` is null while that first create is still being answered."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(default=dict, blank=True)
    action_request = models.ForeignKey(
        ActionRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Two creates with the same key at the same instant: the database lets one through.
            models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_one_per_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="api_idempotency_age_idx")]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key}"

    @classmethod
    def forget_expired(cls, now: datetime) -> int:
        """Delete the keys kept past `PORTAL_API_IDEMPOTENCY_HOURS` (at most 5,000 at a time)."""
        cutoff = now - timedelta(hours=settings.PORTAL_API_IDEMPOTENCY_HOURS)
        old = cls.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:5000]
        deleted, _ = cls.objects.filter(pk__in=list(old)).delete()
        return deleted
