"""Custom playbooks imported from Arazzo documents (issue 17), each version kept unchanged.

A request names one version by its kind (`pb_<hex>_v<n>`), so the plan it was approved for
never changes under it; importing again makes a new version with a new kind, which a delegation
must offer on its own before its team can ask for it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CustomPlaybook(models.Model):
    name = models.CharField(max_length=120, unique=True)
    # Empty when imported from the command line (manage.py arazzo_import).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def latest(self) -> CustomPlaybookVersion | None:
        return self.versions.order_by("-number").first()


class CustomPlaybookVersion(models.Model):
    playbook = models.ForeignKey(CustomPlaybook, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, unique=True, help_text="What requests store as kind.")
    title = models.CharField(max_length=200, blank=True, help_text="The document's info.title.")
    # The document as imported, credentials dropped (what an auditor reads), and what it became.
    document = models.JSONField()
    steps = models.JSONField(help_text="Step specs: system, operation, depends_on, options.")
    options = models.JSONField(default=list, blank=True)
    notices = models.JSONField(default=list, blank=True, help_text="What the import dropped.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_by_label = models.CharField(max_length=150, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["playbook__name", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "number"], name="custom_playbook_version_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.playbook.name} (v{self.number})"
