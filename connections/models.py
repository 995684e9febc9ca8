"""The Connection model: one per system, non-secret settings and one encrypted secret blob."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings as django_settings
from django.db import models

from connections import crypto
from connections.types import System


class Connection(models.Model):
    """How the portal reaches one system. The secret is only ever held encrypted."""

    SECRET_FIELD = "secret"  # noqa: S105 (a field name, not a password)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    system = models.CharField(max_length=16, choices=System.choices, unique=True)
    label = models.CharField(max_length=100)
    enabled = models.BooleanField(default=False)
    settings = models.JSONField(default=dict, blank=True)
    secret_ciphertext = models.TextField(blank=True, default="", editable=False)
    secret_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped on every new secret, so cached access tokens of the old one are never reused.
    secret_version = models.PositiveIntegerField(default=0, editable=False)
    max_concurrency = models.PositiveSmallIntegerField(default=5)
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_message = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["system"]

    def __str__(self) -> str:
        return f"{self.label or self.system_enum.label} ({self.system})"

    def __repr__(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        secret = "set" if self.secret_ciphertext else "not set"
        return f"<Connection {self.system} {state}, secret {secret}>"

    @property
    def system_enum(self) -> System:
        return System(self.system)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_ciphertext)

    def _bind(self) -> str:
        return f"{self.pk}:{self.SECRET_FIELD}"

    def set_secret(self, data: dict[str, Any]) -> None:
        """Encrypt `data` into this row (not saved here); bumps the secret version."""
        self.secret_ciphertext = crypto.encrypt_secret(data, bind=self._bind())
        self.secret_version += 1

    def decrypt_secret(self) -> dict[str, Any]:
        """The secret values; raises SecretUnavailable. Never log or render the result."""
        return crypto.decrypt_secret(self.secret_ciphertext, bind=self._bind())
