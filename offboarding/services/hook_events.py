"""Acting on one stored Okta event (issue 14): find the active policy for it, check the person
against live Okta (protected groups, the system actor's delegation), then make the request, raise
the drift alert, or record why nothing was done. Every outcome is audited.

Runs in a task (`tasks.handle_hook_event`), never in the hook's request. Safe to run twice: an event
is handled once (its status moves off "waiting" under a row lock).
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from connections import selectors as connection_selectors
from offboarding import notifications, playbooks, selectors
from offboarding.audit import audit_record
from offboarding.exceptions import NotAllowed, TargetLookupFailed
from offboarding.models import ActionRequest, AuditEvent, EventPolicy, HookEvent
from offboarding.roles import Role
from offboarding.runner import action_request_start
from offboarding.services.system_actor import event_request_create, system_actor
from offboarding.targets import TargetInfo, preflight_plan, scope_check, target_lookup

logger = logging.getLogger(__name__)

ST = HookEvent.Status
MEMBERSHIP_ADD = "group.user_membership.add"
_OFFBOARDED = (ActionRequest.State.SUCCEEDED, ActionRequest.State.PARTIALLY_FAILED)
# Lifecycle changes the portal's own steps make in Okta: Okta reports them back as events, which
# must not start a second action (offboard suspends) or raise a false alarm (reinstate unsuspends).
_MADE_BY = {
    "user.lifecycle.suspend": ActionRequest.Kind.OFFBOARD,
    "user.lifecycle.deactivate": ActionRequest.Kind.OFFBOARD,
    "user.lifecycle.unsuspend": ActionRequest.Kind.REINSTATE,
    "user.lifecycle.reactivate": ActionRequest.Kind.REINSTATE,
}
ECHO_WINDOW = timedelta(minutes=10)


def policy_for(event: HookEvent, member_of: frozenset[str] = frozenset()) -> EventPolicy | None:
    """The first active policy for the event's type whose group (when it names one) is the
    event's group, or for other events than a membership change one the person is in
    (`member_of`, from live Okta). A policy for a group comes before a policy for any group.
    A group-membership policy that names no group matches nothing: it would act on every group."""
    for policy in _policies(event.event_type):
        if policy.okta_group_id:
            if policy.okta_group_id == event.okta_group_id or (
                event.event_type != MEMBERSHIP_ADD and policy.okta_group_id in member_of
            ):
                return policy
        elif event.event_type != MEMBERSHIP_ADD:
            return policy
    return None


def _policies(event_type: str) -> list[EventPolicy]:
    policies = EventPolicy.objects.filter(active=True, event_type=event_type)
    return sorted(policies, key=lambda p: (not p.okta_group_id, p.pk))


def portal_echo(event: HookEvent) -> ActionRequest | None:
    """The portal's own request for this person that made the change the event reports: one of
    the kind that makes it, touching Okta, running or ended within ECHO_WINDOW of the event."""
    kind = _MADE_BY.get(event.event_type)
    if kind is None:
        return None
    since = event.received_at - ECHO_WINDOW
    candidates = (
        ActionRequest.objects.filter(target_okta_id=event.okta_user_id, kind=kind)
        .filter(Q(state=ActionRequest.State.RUNNING) | Q(finished_at__gte=since))
        .order_by("-pk")
    )
    return next((r for r in candidates[:5] if "okta" in (r.systems or [])), None)


def _systems() -> list[str]:
    enabled = [c.system for c in connection_selectors.connection_enabled_list()]
    return playbooks.normalise_systems(enabled or playbooks.ALL_SYSTEMS)


def hook_event_handle(*, hook_event_id: int) -> str:
    """Handle one waiting event; returns its outcome in words (also stored and audited)."""
    event = HookEvent.objects.filter(pk=hook_event_id, status=ST.WAITING).first()
    if event is None:
        return "already handled"
    if not _policies(event.event_type):
        return _finish(event, ST.IGNORED, f"No active policy for {event.event_type}.")
    if not event.okta_user_id:
        return _finish(event, ST.IGNORED, "The event names no Okta user.")
    echo = portal_echo(event)
    if echo is not None:
        why = f"Okta reports the change request #{echo.pk} of this portal made."
        return _finish(event, ST.IGNORED, why, req=echo)
    member_of: frozenset[str] = frozenset()
    found: TargetInfo | str | None = None
    if event.event_type != MEMBERSHIP_ADD and any(
        p.okta_group_id for p in _policies(event.event_type)
    ):
        found = _lookup(event)  # a policy narrowed to a group: is the person in it?
        if isinstance(found, str):
            return found
        member_of = found.group_ids
    policy = policy_for(event, member_of)
    if policy is None:
        why = f"No active policy for {event.event_type} matches this person or group."
        return _finish(event, ST.IGNORED, why)
    if policy.action == EventPolicy.Action.DRIFT_ALERT:
        return _drift(event, policy)
    target = found or _lookup(event, policy)
    if isinstance(target, str):
        return target
    outcome = _act(event, policy, target)
    started = _automatic_request(hook_event_id)
    if started is not None:
        # Run it here and now rather than after another trip through the broker: the start
        # reuses the live check just made, and its first steps run on this task's threads.
        action_request_start(action_request_id=started, run_here=True)
    return outcome


def _lookup(event: HookEvent, policy: EventPolicy | None = None) -> TargetInfo | str:
    """The person as live Okta describes them, or the outcome in words when Okta cannot say."""
    try:
        return target_lookup(event.okta_user_id)
    except TargetLookupFailed as exc:
        if exc.retryable:  # Okta unreachable: the event waits; the reconciliation queues it again
            return f"waits: {exc.message}"
        return _finish(event, ST.FAILED, exc.message, policy=policy)


def _automatic_request(hook_event_id: int) -> int | None:
    """The request an event just made, if it was approved at once (an automatic reset)."""
    return (
        ActionRequest.objects.filter(
            pk__in=HookEvent.objects.filter(pk=hook_event_id).values("action_request_id"),
            state=ActionRequest.State.APPROVED,
            origin=ActionRequest.Origin.EVENT_HOOK,
        )
        .values_list("pk", flat=True)
        .first()
    )


def _act(event: HookEvent, policy: EventPolicy, target: TargetInfo) -> str:
    actor = system_actor()
    kind = policy.action
    try:
        delegation = scope_check(user=actor, kind=kind, target=target)
    except NotAllowed as exc:  # protected person or out of the delegation's scope
        return _finish(event, ST.IGNORED, exc.message, policy=policy)
    systems = _systems()
    automatic = (
        policy.mode == EventPolicy.Mode.AUTOMATIC
        and kind == ActionRequest.Kind.RESET_SESSIONS
        and delegation.reset_sessions_without_approval
    )
    # An automatic reset starts at once: a pre-flight reading (one call per system, in turn) would
    # only delay the lockout. A request that waits for approval shows the approvers the plan.
    plan = (
        []
        if automatic
        else preflight_plan(kind=kind, systems=systems, options=None, target=target.as_target())
    )
    reason = f"Okta event {event.event_type} ({event.uuid}) matched the policy “{policy.name}”."
    with transaction.atomic():
        twin = selectors.open_twin(kind=kind, target_okta_id=target.okta_id)
        if twin is not None:
            why = f"Request #{twin.pk} for this person is already {twin.get_state_display()}."
            return _finish(event, ST.IGNORED, why, policy=policy)
        try:
            with transaction.atomic():
                req = event_request_create(
                    actor=actor,
                    delegation=delegation,
                    kind=kind,
                    target=target,
                    systems=systems,
                    plan=plan,
                    reason=reason,
                    origin_detail=event.uuid,
                    automatic=automatic,
                )
        except IntegrityError:
            return _finish(event, ST.IGNORED, "A request for this person opened meanwhile.")
        if req.state == ActionRequest.State.PENDING_APPROVAL:
            transaction.on_commit(functools.partial(notifications.notify_approvers, req.pk))
        words = "started at once" if req.state != ActionRequest.State.PENDING_APPROVAL else "waits"
        return _finish(event, ST.DONE, f"Request #{req.pk} {words}.", policy=policy, req=req)


def _drift(event: HookEvent, policy: EventPolicy) -> str:
    """The person came back after the portal offboarded them: audit it and mail the approvers."""
    last = (
        ActionRequest.objects.filter(
            target_okta_id=event.okta_user_id,
            kind=ActionRequest.Kind.OFFBOARD,
            state__in=_OFFBOARDED,
        )
        .order_by("-finished_at", "-pk")
        .first()
    )
    if last is None:
        return _finish(event, ST.IGNORED, "The portal never offboarded this person.", policy=policy)
    with transaction.atomic():
        words = (
            f"{last.target_login} is back ({event.event_type}) after the portal offboarded them "
            f"in request #{last.pk}."
        )
        audit_record(
            action=AuditEvent.Action.DRIFT_ALERT,
            obj=last,
            target=last.target_login,
            details={"event": event.uuid, "event_type": event.event_type, "request": last.pk},
        )
        transaction.on_commit(functools.partial(_mail_approvers, words))
        return _finish(event, ST.DONE, words, policy=policy, req=last)


def _mail_approvers(words: str) -> None:
    emails = list(
        User.objects.filter(is_active=True, groups__name=Role.APPROVER)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not emails:
        return
    try:
        send_mail("Drift: an offboarded person is back in Okta", words, None, emails)
    except Exception:  # a mail server problem must not undo the alert, which is audited
        logger.exception("could not send the drift alert mail")


def _finish(
    event: HookEvent,
    status: str,
    outcome: str,
    *,
    policy: EventPolicy | None = None,
    req: ActionRequest | None = None,
) -> str:
    """Move the event off "waiting" (once) and audit what was done with it."""
    with transaction.atomic():
        moved = HookEvent.objects.filter(pk=event.pk, status=ST.WAITING).update(
            status=status, outcome=outcome, action_request=req, handled_at=timezone.now()
        )
        if not moved:
            return "already handled"
        acted = status == ST.DONE
        audit_record(
            action=AuditEvent.Action.HOOK_EVENT if acted else AuditEvent.Action.HOOK_EVENT_IGNORED,
            actor_label="Okta event",
            obj=event,
            target=event.okta_user_id,
            details={
                "uuid": event.uuid,
                "event_type": event.event_type,
                "source": event.source,
                "policy": policy.name if policy else "",
                "request": req.pk if req else None,
                "outcome": outcome,
            },
        )
    return outcome
