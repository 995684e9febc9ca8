"""The contract between connectors and the step runner: systems, outcomes, errors, call records.

The runner (offboarding) only ever sees these types; it never imports an HTTP client.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import models


class System(models.TextChoices):
    """Every system the portal reaches, listed once: value (the key everywhere) and label.

    Each member has its package at connections/providers/<value>/, whose PROVIDER says all the
    portal knows about that system (client, operations, connection form, defaults).
    """

    OKTA = "okta", "Okta"
    GOOGLE = "google", "Google Workspace"
    ZOOM = "zoom", "Zoom"
    MSGRAPH = "msgraph", "Microsoft 365"


SYSTEM_LABELS: dict[System, str] = {system: system.label for system in System}


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"
    NO_ACCOUNT = "no_account"


@dataclass(frozen=True)
class OperationResult:
    """What one operation did. `detail` is words for a person, never a secret or a raw body."""

    outcome: Outcome
    detail: str = ""
    # What the operation changed, as plain JSON for reinstate and the evidence pack (e.g. the ids of
    # the groups it removed). Never a secret, a token or a raw body.
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """The person, as Okta describes them; each connector finds its own account from this."""

    okta_id: str
    login: str
    email: str
    first_name: str = ""
    last_name: str = ""
    profile: dict[str, Any] = field(default_factory=dict)

    def attribute(self, name: str) -> str:
        """An Okta profile attribute ('login', 'email', or any profile key)."""
        if name == "login":
            return self.login
        if name == "email":
            return self.email
        value = self.profile.get(name)
        return str(value) if value else ""


@dataclass(frozen=True)
class AccountState:
    """A live read of the person's account in one system, for the pre-flight plan."""

    exists: bool
    state: str = ""  # e.g. "ACTIVE", "suspended", "enabled", "inactive"
    locked_out: bool = False  # already suspended / disabled / deactivated
    account_id: str = ""
    detail: str = ""


class ConnectorError(Exception):
    """One error type for every provider.

    `retryable`: a later attempt may succeed (429, 5xx, timeouts, Google quota 403s).
    `retry_after`: seconds the server asked us to wait, when it said so.
    `outcome_unknown`: the request was sent but no answer came; probe before repeating.
    `message` is for a helpdesk agent, e.g. "Okta: user not found (E0000007)"; never a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
        code: str = "",
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.code = code
        self.outcome_unknown = outcome_unknown

    def __repr__(self) -> str:
        return (
            f"ConnectorError({self.message!r}, system={self.system!r}, retryable={self.retryable}, "
            f"status={self.status}, code={self.code!r})"
        )


@dataclass(frozen=True)
class CallRecord:
    """One HTTP exchange with a provider: method and path only (no query secrets, no headers)."""

    system: str
    method: str
    path: str
    status: int | None
    duration_ms: float
    error_code: str = ""
    message: str = ""
    # From the answer's rate-limit headers (Okta's X-Rate-Limit-*), when it had them: calls left in
    # the bucket of this endpoint and when (epoch seconds) it refills. Pacing reads these.
    rate_remaining: int | None = None
    rate_reset: float | None = None


_recorder: contextvars.ContextVar[list[CallRecord] | None] = contextvars.ContextVar(
    "connector_call_recorder", default=None
)


@contextlib.contextmanager
def capture_calls() -> Iterator[list[CallRecord]]:
    """Collect every CallRecord made by connector clients inside the block."""
    records: list[CallRecord] = []
    token = _recorder.set(records)
    try:
        yield records
    finally:
        _recorder.reset(token)


def record_call(record: CallRecord) -> None:
    """Called by the clients' shared base after every exchange."""
    records = _recorder.get()
    if records is not None:
        records.append(record)
