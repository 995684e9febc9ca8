"""Requests, approvals, playbooks, the step runner, delegations and the audit trail."""

from django.apps import AppConfig


class OffboardingConfig(AppConfig):
    name = "offboarding"
    verbose_name = "Offboarding"
    default_auto_field = "django.db.models.BigAutoField"
