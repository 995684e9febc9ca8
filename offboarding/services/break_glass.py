"""Break-glass: a Responder runs reset sessions, or an offboard's lock steps, at once in an
incident, without waiting for approval; the approvers are mailed at once and review it afterwards
(`services.review`).

What stands in for the approval: the Responder role, the team's delegation scope and protected
groups (against live Okta), a reason, TOTP enrolled and a sign-in within the last
ACCOUNT_REAUTHENTICATION_TIMEOUT seconds (5 minutes). Every run is audited as BREAK_GLASS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from offboarding import permissions, playbooks, selectors
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest, NotAllowed
from offboarding.models import ActionRequest, AuditEvent
from offboarding.services.decide import approve_now
from offboarding.services.guards import ensure_mfa
from offboarding.services.review import request_review_required
from offboarding.services.submit import request_fingerprint
from offboarding.targets import TargetInfo, preflight_plan, scope_check, target_lookup


class SignInTooOld(NotAllowed):
    """Break-glass needs a sign-in (or re-authentication) within the last five minutes."""


def _check_responder(responder: User, *, reason: str, authenticated_at: datetime | None) -> None:
    if not permissions.can_break_glass(responder):
        raise NotAllowed("Only Responders may use break-glass.")
    ensure_mfa(responder)
    if not permissions.has_totp(responder):
        raise NotAllowed(
            "Break-glass needs two-factor authentication: set up an authenticator app under "
            "Security first."
        )
    if not (reason or "").strip():
        raise InvalidRequest("Say why: break-glass needs a reason.")
    limit = timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
    now = timezone.now()
    if authenticated_at is None or not (timedelta(0) <= now - authenticated_at <= limit):
        minutes = round(limit.total_seconds() / 60)
        raise SignInTooOld(
            f"Break-glass needs a sign-in within the last {minutes} minutes: confirm your "
            "password and try again."
        )


def _refuse_duplicate(kind: str, target_okta_id: str) -> None:
    twin = selectors.open_twin(kind=kind, target_okta_id=target_okta_id)
    if twin is not None:
        raise InvalidRequest(
            f"Request #{twin.pk} ({twin.get_kind_display().lower()} for this person) is already "
            f"{twin.get_state_display().lower()}: an approver can approve it now."
        )


def _create(fields: dict[str, Any]) -> ActionRequest:
    try:
        with transaction.atomic():
            return ActionRequest.objects.create(**fields)
    except IntegrityError:  # a twin committed at the same instant (the partial unique index)
        _refuse_duplicate(fields["kind"], fields["target_okta_id"])
        raise


def _fields(target: TargetInfo) -> dict[str, Any]:
    return {
        "target_okta_id": target.okta_id,
        "target_login": target.login,
        "target_name": target.name,
        "target_email": target.email,
        "target_status": target.status,
        "target_profile": target.profile,
    }


def action_request_break_glass(
    *,
    responder: User,
    target_okta_id: str,
    kind: str,
    systems: list[str],
    reason: str,
    authenticated_at: datetime | None,
    options: dict[str, Any] | None = None,
    ticket: str = "",
    ip: str = "",
) -> ActionRequest:
    """Run reset sessions, or an offboard's lock steps, at once (origin break_glass): approved
    without an approval, its steps queued on commit, a review due within
    PORTAL_REVIEW_WINDOW_HOURS, the approvers mailed, BREAK_GLASS audited.

    `authenticated_at`: when the responder last signed in or re-authenticated in this session.
    Raises NotAllowed (role, TOTP), SignInTooOld, OutOfScope, ProtectedTarget, InvalidRequest,
    InvalidPlaybook, TargetLookupFailed.
    """
    _check_responder(responder, reason=reason, authenticated_at=authenticated_at)
    if kind not in ActionRequest.Kind.values:
        raise InvalidRequest(f"Unknown action “{kind}”.")
    options = playbooks.break_glass_options(kind, options)
    systems = playbooks.normalise_systems(systems)
    playbooks.build_steps(kind, systems=systems, options=options)
    checked_at = timezone.now()
    target = target_lookup(target_okta_id)
    delegation = scope_check(user=responder, kind=kind, target=target)
    plan = preflight_plan(kind=kind, systems=systems, options=options, target=target.as_target())
    now = timezone.now()
    with transaction.atomic():
        _refuse_duplicate(kind, target.okta_id)
        req = _create(
            {
                "kind": kind,
                "state": ActionRequest.State.PENDING_APPROVAL,
                "state_note": "Break-glass: ran at once, without approval; approvers review it.",
                "origin": ActionRequest.Origin.BREAK_GLASS,
                "origin_detail": f"Break-glass by {responder.get_username()}",
                **_fields(target),
                "systems": systems,
                "options": options,
                "reason": reason.strip(),
                "ticket": ticket.strip(),
                "plan": plan,
                "requester": responder,
                "delegation": delegation,
                "approver_group": delegation.approver_group,
                "approvals_needed": delegation.approvals_needed,
                "fingerprint": request_fingerprint(
                    kind=kind, target_okta_id=target.okta_id, systems=systems, options=options
                ),
                "expires_at": now + timedelta(hours=delegation.expiry_hours),
                "requested_at": now,
            }
        )
        review = request_review_required(
            action_request=req, why=f"Break-glass by {responder.get_username()}", now=now
        )
        audit_record(
            action=AuditEvent.Action.BREAK_GLASS,
            actor=responder,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={
                "kind": kind,
                "systems": systems,
                "options": options,
                "reason": req.reason,
                "ticket": req.ticket,
                "delegation": delegation.name,
                "signed_in_at": authenticated_at.isoformat() if authenticated_at else "",
                "review_due_at": review.due_at.isoformat(),
            },
        )
        approve_now(req, now, checked=target, checked_at=checked_at)
    return req
