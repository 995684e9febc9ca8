"""Reads: each selector does its own select_related / prefetch_related, so no page runs N+1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, Func, OuterRef, Prefetch, Q, QuerySet, TextField
from django.db.models.lookups import IContains

from offboarding import permissions, playbooks
from offboarding.keyset import KeysetPage, keyset_page
from offboarding.models import (
    ActionRequest,
    Approval,
    AuditChainHead,
    AuditEvent,
    Delegation,
    ProtectedGroup,
    StepAttempt,
    StepRun,
)
from offboarding.permissions import AnyUser
from offboarding.selectors_verification import verification_filter


def action_requests_visible_to(user: AnyUser) -> QuerySet[ActionRequest]:
    """The requests `permissions.visible_requests` lets this user see."""
    return ActionRequest.objects.select_related("requester", "approver_group").filter(
        permissions.visible_requests(user)
    )


def approvals_pending_for(user: AnyUser) -> QuerySet[ActionRequest]:
    """Pending requests this user may decide and has not yet approved as they stand."""
    if not permissions.can_approve(user):
        return ActionRequest.objects.none()
    already = Approval.objects.filter(
        action_request=OuterRef("pk"), approver_id=user.pk, fingerprint=OuterRef("fingerprint")
    )
    return (
        ActionRequest.objects.select_related("requester", "approver_group")
        .filter(state=ActionRequest.State.PENDING_APPROVAL, approver_group__in=user.groups.all())
        .exclude(requester_id=user.pk)
        .exclude(Exists(already))
        .order_by("expires_at", "id")
    )


def open_twin(
    *, kind: str, target_okta_id: str, other_than: int | None = None
) -> ActionRequest | None:
    """The open request for this action and person (there is at most one), other than `other_than`."""
    twins = ActionRequest.objects.filter(
        kind=kind, target_okta_id=target_okta_id, state__in=ActionRequest.OPEN_STATES
    )
    if other_than is not None:
        twins = twins.exclude(pk=other_than)
    return twins.order_by("id").first()


def action_request_detail(pk: int) -> ActionRequest:
    """One request with its steps, their attempts and the approvals, in four queries."""
    return (
        ActionRequest.objects.select_related("requester", "approver_group", "delegation")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=StepRun.objects.order_by("position", "id").prefetch_related(
                    Prefetch(
                        "attempt_records",
                        queryset=StepAttempt.objects.order_by("round", "attempt_no", "id"),
                    )
                ),
            ),
            Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
        )
        .get(pk=pk)
    )


def steps_by_system(action_request: ActionRequest) -> list[dict[str, Any]]:
    """[{system, label, steps}] in playbook order, from prefetched steps."""
    groups: dict[str, dict[str, Any]] = {}
    for step in action_request.steps.all():
        entry = groups.setdefault(
            step.system, {"system": step.system, "label": step.system_label, "steps": []}
        )
        entry["steps"].append(step)
    order = {system: i for i, system in enumerate(playbooks.ALL_SYSTEMS)}
    return sorted(groups.values(), key=lambda g: order.get(g["system"], len(order)))


def audit_event_search(
    *,
    actor: User | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor").order_by("-seq")
    if actor is not None:
        qs = qs.filter(actor=actor)
    if action:
        qs = qs.filter(action=action)
    if target:
        qs = qs.filter(target__icontains=target)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs


def approvals_in_scope_for(user: AnyUser) -> QuerySet[ActionRequest]:
    """Pending requests in the approver's groups, their own included (the page says why they
    cannot decide those), each annotated with `approved_by_me` for the version as it stands.
    """
    if not permissions.can_approve(user):
        return ActionRequest.objects.none()
    mine = Approval.objects.filter(
        action_request=OuterRef("pk"),
        approver_id=user.pk,
        fingerprint=OuterRef("fingerprint"),
        decision=Approval.Decision.APPROVED,
    )
    return (
        ActionRequest.objects.select_related("requester", "approver_group")
        .filter(state=ActionRequest.State.PENDING_APPROVAL, approver_group__in=user.groups.all())
        .annotate(approved_by_me=Exists(mine))
        .order_by("requested_at", "id")
    )


# --- History, audit and dashboard reads (keyset pages, exports, figures) ---------------------------


def action_request_history(
    *,
    user: AnyUser,
    state: str | None = None,
    kind: str | None = None,
    system: str | None = None,
    requester: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    verification: str | None = None,
) -> QuerySet[ActionRequest]:
    """Submitted requests the user may view, filtered, newest first (requested_at, id).

    The word filters are `icontains`; on PostgreSQL trigram indexes answer them (migration 0005).
    """
    qs = ActionRequest.objects.select_related("requester").filter(
        permissions.visible_requests(user), requested_at__isnull=False
    )
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if system:
        # Steps, not the JSON list: JSON containment is not portable to SQLite.
        qs = qs.filter(Exists(StepRun.objects.filter(action_request=OuterRef("pk"), system=system)))
    if verification:  # issue 13: each system's read-back (in `system` when that is chosen too)
        qs = qs.filter(verification_filter(verification, system))
    if requester:
        qs = qs.filter(requester__username__icontains=requester)
    if target:
        words = target.replace(TargetWords.SEPARATOR, "")
        qs = qs.filter(Q(IContains(TargetWords(), words)) | Q(target_okta_id=target))
    if since:
        qs = qs.filter(requested_at__gte=since)
    if until:
        qs = qs.filter(requested_at__lt=until)
    return qs.order_by("-requested_at", "-id")


class TargetWords(Func):
    """Login, name and email in one string, split by a character no one types (chr 1).

    Contains-filtering this matches exactly the rows where one of the three contains the words, with
    one LIKE and one trigram index (migration 0005) instead of three of each.
    """

    SEPARATOR = "\x01"
    template = "(%(expressions)s)"
    arg_joiner = " || chr(1) || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("target_login"), F("target_name"), F("target_email"))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, arg_joiner=" || char(1) || ", **extra)


# The columns the history list shows (the JSON plan and profile stay in the database).
HISTORY_LIST_FIELDS = (
    "id",
    "kind",
    "state",
    "target_login",
    "target_name",
    "systems",
    "requested_at",
    "requester__username",
)


def action_request_history_page(
    *,
    user: AnyUser,
    filters: dict[str, Any],
    older_than: tuple[Any, ...] | None = None,
    newer_than: tuple[Any, ...] | None = None,
    size: int = 50,
) -> KeysetPage:
    """One page of the history list, keyset-paged on (requested_at, id), only the shown columns."""
    qs = action_request_history(user=user, **filters).only(*HISTORY_LIST_FIELDS)
    base = action_request_history(user=user) if any(filters.values()) else None
    return keyset_page(
        qs,
        fields=("requested_at", "id"),
        older_than=older_than,
        newer_than=newer_than,
        size=size,
        base=base,
    )


def audit_event_list(
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events filtered by words as typed on the page (actor by username), newest first."""
    qs = audit_event_search(action=action, target=target, since=since, until=until)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    return qs


AUDIT_LIST_FIELDS = ("seq", "at", "actor_label", "action", "target", "ip", "details")


def audit_event_page(
    *,
    filters: dict[str, Any],
    older_than: tuple[Any, ...] | None = None,
    newer_than: tuple[Any, ...] | None = None,
    size: int = 100,
) -> KeysetPage:
    """One page of the audit list, keyset-paged on seq, without the hashes or the actor row."""
    qs = audit_event_list(**filters).select_related(None).only(*AUDIT_LIST_FIELDS)
    base = AuditEvent.objects.all() if any(filters.values()) else None
    return keyset_page(
        qs, fields=("seq",), older_than=older_than, newer_than=newer_than, size=size, base=base
    )


def audit_last_verification() -> AuditEvent | None:
    return (
        AuditEvent.objects.filter(action=AuditEvent.Action.AUDIT_VERIFIED).order_by("-seq").first()
    )


def audit_chain_state() -> dict[str, Any]:
    """The last verification's result, in words, and how many events came after it."""
    last = audit_last_verification()
    if last is None:
        return {"checked": False}
    details = last.details or {}
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    intact = details.get("intact")
    if intact is None:  # recorded before the page kept the figures: read the words
        intact = str(details.get("result", "")).startswith("chain intact")
    return {
        "checked": True,
        "intact": bool(intact),
        "count": details.get("count"),
        "broken_at": details.get("broken_at"),
        "problem": details.get("problem", ""),
        "result": details.get("result", ""),
        "at": last.at,
        "by": last.actor_label or "the system",
        "since": max(0, head - (last.seq or head)),
    }


def delegation_list() -> QuerySet[Delegation]:
    return Delegation.objects.select_related("team", "approver_group")


def delegation_get(pk: int) -> Delegation | None:
    return delegation_list().filter(pk=pk).first()


def protected_group_list() -> QuerySet[ProtectedGroup]:
    return ProtectedGroup.objects.all()


# Which step locks a person out of a system, per action kind (derived from the playbooks).
LOCKOUT_STEPS = playbooks.LOCKOUT_STEPS


def request_counts_by_state(requests: QuerySet[ActionRequest]) -> dict[str, int]:
    rows = requests.order_by().values_list("state").annotate(n=Count("id"))
    return {state: n for state, n in rows}
