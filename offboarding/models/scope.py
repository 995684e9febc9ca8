"""Who may act on whom: delegations and protected groups."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models


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
