"""Requests, approvals, playbooks, the step runner, delegations and the audit trail."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


class OffboardingConfig(AppConfig):
    name = "offboarding"
    verbose_name = "Offboarding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from offboarding import hook_signals, playbooks
        from offboarding.arazzo.registry import custom_playbook
        from offboarding.runner.heartbeat import start_worker_heartbeat
        from offboarding.signals import connect_all

        register(check_runner_timeouts)
        connect_all()
        hook_signals.connect()  # the event hook's secret follows key rotation (issue 14)
        playbooks.set_custom_lookup(custom_playbook)  # issue 17: imported Arazzo playbooks
        post_spawn.connect(start_worker_heartbeat, dispatch_uid="offboarding.worker_heartbeat")


def check_runner_timeouts(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    timeout, retry = settings.Q_CLUSTER.get("timeout"), settings.Q_CLUSTER.get("retry")
    if timeout is None or retry is None or timeout >= retry:
        errors.append(
            Error(
                "Q_CLUSTER timeout must be set and lower than retry, or a slow task runs twice at once.",
                hint=f"timeout={timeout!r}, retry={retry!r}.",
                id="offboarding.E001",
            )
        )
        return errors
    if settings.OFFBOARDING_HEARTBEAT_SECONDS * 3 > settings.OFFBOARDING_LEASE_SECONDS:
        errors.append(
            Error(
                "OFFBOARDING_HEARTBEAT_SECONDS must be at most a third of OFFBOARDING_LEASE_SECONDS.",
                hint="Leases are renewed while a call runs; one slow renewal must not lose one.",
                id="offboarding.E002",
            )
        )
    http = settings.PORTAL_HTTP_TIMEOUT
    if http * 3 >= timeout:
        errors.append(
            Warning(
                f"HTTP timeout {http}s is not well below the task timeout {timeout}s.",
                hint="A step makes a few calls; keep the HTTP timeout under a third of Q_TIMEOUT.",
                id="offboarding.W001",
            )
        )
    return errors
