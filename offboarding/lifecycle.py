"""The lifecycle of a request and of its steps: their states, the moves allowed between them, and the
one way to make a move.

Every change of `ActionRequest.state` or `StepRun.status` goes through `transition()`: a conditional
`UPDATE … WHERE state IN (the allowed sources) [AND whatever the caller filtered on]` that also
stamps `updated_at`. Zero rows means someone else moved the row first (a racing approver, a worker
whose lease was lost); a move the table below forbids raises IllegalTransition before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from django.db import models
from django.utils import timezone

from offboarding.exceptions import IllegalTransition


class RequestState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_FAILED = "partially_failed", "Partially failed"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


# An open request still asks approvers or runs steps: a second one for the same action and person
# would only ask twice and run the same steps twice (a partial unique index refuses it). A scheduled
# request waiting for its time is not open, so an urgent one may overtake it; it then waits for the
# urgent one to end before it starts.
OPEN_REQUEST_STATES = (
    RequestState.DRAFT,
    RequestState.PENDING_APPROVAL,
    RequestState.APPROVED,
    RequestState.RUNNING,
)


class StepStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    READY = "ready", "Ready"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


RS = RequestState
S = StepStatus

# DESIGN.md "Request lifecycle": each state, and the states a request may enter it from.
REQUEST_MOVES: Mapping[str, frozenset[str]] = {
    RS.PENDING_APPROVAL: frozenset({RS.DRAFT}),
    RS.APPROVED: frozenset({RS.PENDING_APPROVAL}),
    RS.SCHEDULED: frozenset({RS.PENDING_APPROVAL}),
    # "Retry this system" runs a request that ended with failed steps again.
    RS.RUNNING: frozenset({RS.APPROVED, RS.SCHEDULED, RS.PARTIALLY_FAILED, RS.FAILED}),
    RS.SUCCEEDED: frozenset({RS.RUNNING}),
    RS.PARTIALLY_FAILED: frozenset({RS.RUNNING}),
    # Refused before the first step: scope or protection changed since the approval.
    RS.FAILED: frozenset({RS.RUNNING, RS.APPROVED, RS.SCHEDULED}),
    RS.REJECTED: frozenset({RS.PENDING_APPROVAL}),
    RS.EXPIRED: frozenset({RS.PENDING_APPROVAL}),
    # Before it runs, or (derived from its steps) once every step was cancelled by a person.
    RS.CANCELLED: frozenset({RS.DRAFT, RS.PENDING_APPROVAL, RS.APPROVED, RS.SCHEDULED, RS.RUNNING}),
}

# DESIGN.md "Step states": each status, and the statuses a step may enter it from.
STEP_MOVES: Mapping[str, frozenset[str]] = {
    # A retry of its system: a step cancelled because a dependency failed waits again, and so
    # does a failed verification (to read the account back after the steps run again).
    S.WAITING: frozenset({S.CANCELLED, S.FAILED}),
    # Its dependencies are decided; or a retry of its failed system.
    S.READY: frozenset({S.WAITING, S.FAILED}),
    # A worker claimed it.
    S.RUNNING: frozenset({S.READY, S.RETRYING}),
    # No free slot at claim time; a transient error; a worker lost mid-attempt.
    S.RETRYING: frozenset({S.READY, S.RETRYING, S.RUNNING}),
    S.SUCCEEDED: frozenset({S.RUNNING}),
    # No account: found by the step itself, or by its system's lock step before it.
    S.SKIPPED: frozenset({S.RUNNING, S.WAITING}),
    # A permanent error, the attempts used up, or quarantined after crashing workers.
    S.FAILED: frozenset({S.RUNNING}),
    # Cancelled by a person, refused before the first step, or a dependency that did not succeed.
    S.CANCELLED: frozenset({S.WAITING, S.READY, S.RETRYING}),
}

# The models that have a lifecycle: the field holding the state, and the table of its moves.
LIFECYCLES: Mapping[str, tuple[str, Mapping[str, frozenset[str]]]] = {
    "offboarding.actionrequest": ("state", REQUEST_MOVES),
    "offboarding.steprun": ("status", STEP_MOVES),
}

_M = TypeVar("_M", bound=models.Model)


class TransitionQuerySet(models.QuerySet[_M, _M]):
    """The manager of a model with a lifecycle: its rows change state only along the table."""

    def transition(
        self,
        *,
        to: str,
        fence: str | Iterable[str] | None = None,
        at: datetime | None = None,
        **fields: Any,
    ) -> int:
        """Move the rows that are still in one of `fence` (default: every state `to` may be entered
        from) to `to`, setting `fields` and `updated_at` (`at`, default now) in one UPDATE.

        Returns how many rows moved. Raises IllegalTransition when the table forbids a move from
        any state in `fence` to `to`.
        """
        state_field, moves = self._lifecycle(fields)
        allowed = moves.get(to)
        name = self.model._meta.verbose_name
        if allowed is None:
            raise IllegalTransition(f"Unknown {name} state “{to}”.")
        sources = (
            allowed if fence is None else frozenset([fence] if isinstance(fence, str) else fence)
        )
        illegal = sorted(sources - allowed)
        if illegal:
            raise IllegalTransition(f"A {name} cannot go from {', '.join(illegal)} to {to}.")
        return self.filter(**{f"{state_field}__in": sorted(sources)}).update(
            **{state_field: to}, updated_at=at or timezone.now(), **fields
        )

    def amend(self, *, at: datetime | None = None, **fields: Any) -> int:
        """Change fields other than the state, stamping `updated_at`. Returns the rows changed."""
        self._lifecycle(fields)
        return self.update(updated_at=at or timezone.now(), **fields)

    def _lifecycle(self, fields: Mapping[str, Any]) -> tuple[str, Mapping[str, frozenset[str]]]:
        state_field, moves = LIFECYCLES[self.model._meta.label_lower]
        if state_field in fields or "updated_at" in fields:
            raise IllegalTransition(
                f"Pass the new {state_field} as `to` and the time as `at`, not as fields."
            )
        return state_field, moves
