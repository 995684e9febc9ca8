"""A system's verification step, as the runner runs it: what it is told, and what it leaves.

The step (`<system>.verify`, after the system's other steps) is an ordinary step run by the same
crash-safe machinery. Its provider reads the account back and returns a neutral result (verdict,
words, what it observed); here the runner adds when the system's steps started (so a read-back
can tell "sessions valid from before the revoke"), fails the step when the read-back contradicts
the steps (so the request ends partially failed), and, in the completion's transaction, stores the
`SystemVerification` and writes `SYSTEM_VERIFIED`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Min

from connections.types import ConnectorError, OperationResult, Outcome
from offboarding.audit import audit_record
from offboarding.models import AuditEvent, StepRun, SystemVerification
from offboarding.playbooks import VERIFY_OPERATION

V = SystemVerification.Verdict


def is_verification(step: StepRun) -> bool:
    return step.operation == VERIFY_OPERATION


def verification_options(step: StepRun) -> dict[str, Any]:
    """The step's options, plus `since`: when the first of this system's other steps started."""
    options = dict(step.options or {})
    started = (
        StepRun.objects.filter(action_request_id=step.action_request_id, system=step.system)
        .exclude(pk=step.pk)
        .aggregate(first=Min("started_at"))["first"]
    )
    if started is not None:
        options["since"] = started.isoformat()
    return options


def contradicted(result: OperationResult) -> bool:
    """Whether a verification's read-back contradicts the steps (the step then fails)."""
    return result.outcome == Outcome.DONE and result.data.get("verdict") == V.NOT_VERIFIED


def verification_record(
    step: StepRun,
    *,
    result: OperationResult | None,
    error: ConnectorError | None,
    now: datetime,
) -> None:
    """Store what the read-back saw (one row per request and system) and audit it.

    Called inside the completion's transaction once the step is terminal. A skipped step (no
    account) records nothing: there was nothing to lock. An error records "could not be read".
    """
    if result is not None and result.outcome == Outcome.NO_ACCOUNT:
        return
    if result is not None:
        verdict = str(result.data.get("verdict") or V.UNAVAILABLE)
        if verdict not in V.values:
            verdict = V.UNAVAILABLE
        summary = result.detail
        observed = result.data.get("observed") or {}
    else:
        verdict, observed = V.UNAVAILABLE, {}
        summary = f"The read-back failed: {error.message if error else 'no answer'}"
    # One statement (INSERT … ON CONFLICT DO UPDATE): a retry's read-back replaces the first.
    SystemVerification.objects.bulk_create(
        [
            SystemVerification(
                action_request_id=step.action_request_id,
                system=step.system,
                verdict=verdict,
                summary=summary,
                observed=observed,
                at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["action_request", "system"],
        update_fields=["verdict", "summary", "observed", "at"],
    )
    audit_record(
        action=AuditEvent.Action.SYSTEM_VERIFIED,
        obj=step,
        target=step.action_request.target_login,
        details={
            "request": step.action_request_id,
            "system": step.system,
            "verdict": verdict,
            "words": summary,
        },
    )
