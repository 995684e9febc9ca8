"""The system actor that event-driven requests are made by, and the reset that runs without approval.

The actor ("okta-events") cannot sign in. Its team's delegation ("Okta event policies", made here on
first use) scopes every event-driven request exactly as a team's delegation scopes a person's:
Connection admins narrow it on the Policies page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from offboarding import playbooks
from offboarding.audit import audit_record
from offboarding.models import ActionRequest, AuditEvent, Delegation
from offboarding.roles import Role
from offboarding.services.decide import approve_now
from offboarding.services.review import request_review_required
from offboarding.services.submit import request_fingerprint
from offboarding.targets import TargetInfo

SYSTEM_USERNAME = "okta-events"
SYSTEM_TEAM = "Okta events (system)"
DELEGATION = "Okta event policies"
Kind = ActionRequest.Kind


def system_actor() -> User:
    """The system actor, with its team and delegation (created once, idempotent)."""
    with transaction.atomic():
        team, _ = Group.objects.get_or_create(name=SYSTEM_TEAM)
        actor, created = User.objects.get_or_create(
            username=SYSTEM_USERNAME,
            defaults={"is_active": False, "first_name": "Okta", "last_name": "events"},
        )
        if not created:
            return actor
        actor.set_unusable_password()
        actor.save(update_fields=["password"])
        actor.groups.add(team)
        # Made once with the actor: a delegation an admin later deletes or switches off stays so
        # (events are then out of scope and ignored, audited), never silently re-created.
        if not Delegation.objects.filter(team=team).exists():
            approvers, _ = Group.objects.get_or_create(name=Role.APPROVER)
            Delegation.objects.create(
                name=DELEGATION,
                team=team,
                allowed_actions=[Kind.RESET_SESSIONS, Kind.OFFBOARD],
                approver_group=approvers,
                reset_sessions_without_approval=True,
            )
    return actor


def event_request_create(
    *,
    actor: User,
    delegation: Delegation,
    kind: str,
    target: TargetInfo,
    systems: list[str],
    plan: list[dict[str, Any]],
    reason: str,
    origin_detail: str,
    automatic: bool,
) -> ActionRequest:
    """A request made by the system actor for an Okta event. With `automatic` (reset sessions only,
    and only when the delegation allows running without approval) it is approved at once and
    starts on commit; it is marked `origin="event_hook"` so it lands in the approvers' review
    queue. Otherwise it waits for approval like any request. The caller holds a transaction and
    has checked protection, scope and that no twin is open.
    """
    automatic = automatic and kind == Kind.RESET_SESSIONS
    automatic = automatic and delegation.reset_sessions_without_approval
    options = playbooks.normalise_options(kind, None)
    now = timezone.now()
    req = ActionRequest.objects.create(
        kind=kind,
        state=ActionRequest.State.PENDING_APPROVAL,
        state_note="Ran at once for an Okta event; approvers review it afterwards."
        if automatic
        else "",
        target_okta_id=target.okta_id,
        target_login=target.login,
        target_name=target.name,
        target_email=target.email,
        target_status=target.status,
        target_profile=target.profile,
        systems=systems,
        options=options,
        reason=reason,
        origin=ActionRequest.Origin.EVENT_HOOK,
        origin_detail=origin_detail[:200],
        plan=plan,
        requester=actor,
        delegation=delegation,
        approver_group=delegation.approver_group,
        approvals_needed=delegation.approvals_needed,
        fingerprint=request_fingerprint(
            kind=kind, target_okta_id=target.okta_id, systems=systems, options=options
        ),
        expires_at=now + timedelta(hours=delegation.expiry_hours),
        requested_at=now,
    )
    audit_record(
        action=AuditEvent.Action.REQUEST_SUBMITTED,
        actor=actor,
        obj=req,
        target=req.target_login,
        details={
            "kind": kind,
            "systems": systems,
            "reason": reason,
            "origin": "event_hook",
            "event": origin_detail,
            "delegation": delegation.name,
            "without_approval": automatic,
        },
    )
    if automatic:
        approve_now(req, now, checked=target, checked_at=now)
        # Four-eyes after the fact: the approvers of its group review it (issue 14's queue).
        request_review_required(
            action_request=req, why=f"Ran at once for the Okta event {origin_detail}", now=now
        )
    return req
