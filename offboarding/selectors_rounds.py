"""Reads for the dashboard that count every round of a step (issue 16): failures a retry later
fixed still count, and time to lockout is given with and without the wait for a person's retry."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from offboarding import rounds
from offboarding.models import ActionRequest, StepRun
from offboarding.playbooks import LOCKOUT_STEPS

_FIELDS = ("system", "status", "finished_at", "earlier_rounds")


def step_failures_by_system(
    requests: QuerySet[ActionRequest], *, since: datetime
) -> dict[str, int]:
    """Failed rounds since `since`, per system: steps that ended failed, and earlier failed rounds
    of steps a person retried (whatever the retry's outcome)."""
    rows = (
        StepRun.objects.filter(action_request__in=requests.order_by().values("pk"))
        .filter(Q(status=StepRun.Status.FAILED, finished_at__gte=since) | Q(round__gt=1))
        .filter(updated_at__gte=since)
        .order_by()
        .only("id", *_FIELDS)
    )
    result: dict[str, int] = {}
    for step in rows:
        n = rounds.failed_rounds(step, since=since)
        if n:
            result[step.system] = result.get(step.system, 0) + n
    return result


def lockout_times(
    requests: QuerySet[ActionRequest], *, since: datetime
) -> dict[str, list[tuple[float, float]]]:
    """Per system, for each succeeded lock step finished since `since`: (seconds from approval to
    lockout, seconds of that spent waiting for a person to retry a failed round)."""
    which = Q()
    for kind, steps in LOCKOUT_STEPS.items():
        for system, operation in steps:
            which |= Q(action_request__kind=kind, system=system, operation=operation)
    rows = (
        StepRun.objects.filter(
            which,
            action_request__in=requests.order_by().values("pk"),
            status=StepRun.Status.SUCCEEDED,
            finished_at__gte=since,
            action_request__approved_at__isnull=False,
        )
        .select_related(None)
        .order_by()
        .only("id", *_FIELDS, "action_request__approved_at")
        .select_related("action_request")
    )
    result: dict[str, list[tuple[float, float]]] = {}
    for step in rows:
        approved = step.action_request.approved_at
        if step.finished_at and approved:
            total = max(0.0, (step.finished_at - approved).total_seconds())
            waited = min(total, rounds.waited_for_retry(step))
            result.setdefault(step.system, []).append((total, waited))
    return result
