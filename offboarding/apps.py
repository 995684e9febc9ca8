"""Requests, approvals, playbooks, the step runner, delegations and the audit trail."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Warning, register


class OffboardingConfig(AppConfig):
    name = "offboarding"
    verbose_name = "Offboarding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from offboarding.signals import connect_all

        register(check_runner_timeouts)
        connect_all()


def _http_timeout() -> float | None:
    value = getattr(settings, "PORTAL_HTTP_TIMEOUT", None)
    if value is None:
        try:
            from connections.clients.base import DEFAULT_TIMEOUT as value
        except ImportError:
            return None
    if isinstance(value, int | float):
        return float(value)
    parts = [getattr(value, name, None) for name in ("connect", "read", "write", "pool")]
    numbers = [float(p) for p in parts if isinstance(p, int | float)]
    return max(numbers) if numbers else None


def check_runner_timeouts(app_configs: Any, **kwargs: Any) -> list:
    errors: list = []
    q = getattr(settings, "Q_CLUSTER", {})
    timeout, retry = q.get("timeout"), q.get("retry")
    if timeout is None or retry is None or timeout >= retry:
        errors.append(
            Error(
                "Q_CLUSTER timeout must be set and lower than retry, or a slow task runs twice at once.",
                hint=f"timeout={timeout!r}, retry={retry!r}.",
                id="offboarding.E001",
            )
        )
        return errors
    from offboarding.runner import lease_seconds

    if lease_seconds() <= timeout:
        errors.append(
            Error(
                "OFFBOARDING_LEASE_SECONDS must be longer than Q_CLUSTER timeout.",
                id="offboarding.E002",
            )
        )
    http = _http_timeout()
    if http is not None and http * 3 >= timeout:
        errors.append(
            Warning(
                f"HTTP timeout {http}s is not well below the task timeout {timeout}s.",
                hint="A step makes a few calls; keep the HTTP timeout under a third of Q_TIMEOUT.",
                id="offboarding.W001",
            )
        )
    return errors
