"""What a verification step read back from a system after the request's steps there."""

from __future__ import annotations

from django.db import models

from offboarding.models.requests import ActionRequest, SystemChoices


class SystemVerification(models.Model):
    """One system's read-back after a request's steps: verified, or not, and what was seen."""

    class Verdict(models.TextChoices):
        VERIFIED = "verified", "Verified"
        NOT_VERIFIED = "not_verified", "Not verified"
        UNAVAILABLE = "unavailable", "Could not be read"

    action_request = models.ForeignKey(
        ActionRequest, on_delete=models.CASCADE, related_name="verifications"
    )
    system = models.CharField(max_length=16, choices=SystemChoices.choices)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    summary = models.TextField(help_text="In words, e.g. 'Okta still lists 2 app assignments'.")
    observed = models.JSONField(
        default=dict, blank=True, help_text="What was read, field by field."
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action_request_id", "system", "-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["action_request", "system"], name="verification_one_per_system"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.verdict} #{self.action_request_id}"
