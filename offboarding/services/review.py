"""After-the-fact review: runs made without prior approval (break-glass, automatic runs started by
Okta events) wait in one queue until an approver accepts them or flags them with a comment.

Four-eyes holds after the fact: the person who ran it never reviews it (checked here, not only in
the views). A review not given within PORTAL_REVIEW_WINDOW_HOURS shows as overdue.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from offboarding import notifications, permissions
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest, InvalidTransition, NotAllowed
from offboarding.models import ActionRequest, AfterTheFactReview, AuditEvent
from offboarding.services.guards import ensure_mfa

Decision = AfterTheFactReview.Decision


def request_review_required(
    *, action_request: ActionRequest, why: str, now: datetime | None = None, notify: bool = True
) -> AfterTheFactReview:
    """Put a request that runs without prior approval in the review queue, due within
    PORTAL_REVIEW_WINDOW_HOURS, and (on commit) mail the approvers of its approver group.

    Call it inside the transaction that lets the request run. Idempotent: a second call returns
    the review already there. Set `approver_group` on the request: its Approvers review it.
    """
    now = now or timezone.now()
    review, created = AfterTheFactReview.objects.get_or_create(
        action_request=action_request,
        defaults={
            "why": why[:200],
            "due_at": now + timedelta(hours=settings.PORTAL_REVIEW_WINDOW_HOURS),
        },
    )
    if created and notify:
        transaction.on_commit(
            functools.partial(notifications.notify_review_needed, action_request.pk)
        )
    return review


def _checked_verdict(decision: str, comment: str) -> str:
    if decision not in (Decision.ACCEPTED, Decision.FLAGGED):
        raise InvalidRequest("Choose accept or flag.")
    if decision == Decision.FLAGGED and not comment:
        raise InvalidRequest("Say what is wrong: flagging a run needs a comment.")
    return decision


def _check_reviewer(review: AfterTheFactReview, reviewer: User) -> None:
    req = review.action_request
    if reviewer.pk == req.requester_id:
        raise NotAllowed("You cannot review a run you made yourself (four-eyes).")
    if not permissions.can_review_request(reviewer, req):
        raise NotAllowed("You are not an approver for this request.")
    ensure_mfa(reviewer)
    if not review.is_pending:
        who = review.reviewer.get_username() if review.reviewer else "someone"
        raise InvalidTransition(
            f"This run was already reviewed ({review.get_decision_display().lower()} by {who})."
        )


def review_record(
    *, action_request_id: int, reviewer: User, decision: str, comment: str = "", ip: str = ""
) -> AfterTheFactReview:
    """Accept, or flag with a comment, a run made without prior approval; audited as
    BREAK_GLASS_REVIEWED. Raises NotAllowed (own run, not an approver of its group),
    InvalidRequest (no such review, flag without comment) or InvalidTransition (already reviewed).
    """
    comment = (comment or "").strip()
    decision = _checked_verdict(decision, comment)
    with transaction.atomic():
        review = (
            AfterTheFactReview.objects.select_for_update(of=("self",))
            .select_related("action_request", "reviewer")
            .filter(action_request_id=action_request_id)
            .first()
        )
        if review is None:
            raise InvalidRequest("This request does not wait for an after-the-fact review.")
        _check_reviewer(review, reviewer)
        now = timezone.now()
        overdue = review.is_overdue(now)
        review.decision, review.comment = decision, comment
        review.reviewer, review.reviewed_at = reviewer, now
        review.save(update_fields=["decision", "comment", "reviewer", "reviewed_at"])
        req = review.action_request
        audit_record(
            action=AuditEvent.Action.BREAK_GLASS_REVIEWED,
            actor=reviewer,
            obj=req,
            target=req.target_login,
            ip=ip,
            details={
                "decision": decision,
                "comment": comment,
                "origin": req.origin,
                "overdue": overdue,
                "due_at": review.due_at.isoformat(),
            },
        )
    return review
