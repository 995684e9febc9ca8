"""Emails: to the approvers who may approve a request (or review a run made without approval),
and to the requester on each outcome.

Called from `transaction.on_commit`, so a mail failure never undoes a decision; it is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from offboarding.models import ActionRequest, Batch
from offboarding.roles import Role

logger = logging.getLogger(__name__)


def eligible_approvers(action_request: ActionRequest) -> list[User]:
    """Active Approvers in the request's approver group, never the requester."""
    if action_request.approver_group_id is None:
        return []
    return list(
        User.objects.filter(is_active=True, groups__name=Role.APPROVER)
        .filter(groups__id=action_request.approver_group_id)
        .exclude(pk=action_request.requester_id)
        .distinct()
        .order_by("username")
    )


def _request_url(action_request: ActionRequest) -> str:
    base = settings.PORTAL_BASE_URL
    return base + reverse("offboarding:request-detail", kwargs={"pk": action_request.pk})


def _send(template: str, recipients: list[str], context: dict[str, Any]) -> int:
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=recipients)
    message.attach_alternative(html, "text/html")
    try:
        return message.send()
    except Exception:  # a mail server problem must not break a decision or a worker
        logger.exception("could not send %s mail for request", template)
        return 0


def notify_approvers(action_request_id: int) -> int:
    """Tell the people who may approve this request that it waits for them."""
    req = ActionRequest.objects.select_related("requester").get(pk=action_request_id)
    if req.state != ActionRequest.State.PENDING_APPROVAL:
        return 0
    approvers = eligible_approvers(req)
    context = {"req": req, "url": _request_url(req)}
    return _send("approval_needed", [u.email for u in approvers], context)


def notify_requester(action_request_id: int, event: str) -> int:
    """event: approved, rejected, expired, cancelled, succeeded, partially_failed, failed."""
    req = ActionRequest.objects.select_related("requester").get(pk=action_request_id)
    if req.batch_id is not None:
        return 0  # a bulk batch's requests do not mail one by one: the batch's page follows them
    steps = list(req.steps.all()) if event in ("succeeded", "partially_failed", "failed") else []
    words = req.get_state_display().lower()
    if event == "approved" and req.state == req.State.RUNNING:
        words = "approved and started"  # an approval on a fresh live check starts the request
    context = {"req": req, "url": _request_url(req), "event": event, "steps": steps, "words": words}
    return _send("request_update", [req.requester.email], context)


def notify_review_needed(action_request_id: int) -> int:
    """Tell the approvers of a run made without prior approval (break-glass, an Okta event) that it
    ran and waits for their after-the-fact review (issue 14)."""
    req = ActionRequest.objects.select_related("requester", "review").get(pk=action_request_id)
    context = {
        "req": req,
        "review": req.review,
        "url": _request_url(req),
        "queue_url": settings.PORTAL_BASE_URL + reverse("offboarding:reviews"),
    }
    return _send("review_needed", [u.email for u in eligible_approvers(req)], context)


def notify_batch_approvers(batch_id: int) -> int:
    """Tell the approvers of a bulk batch (issue 15) that it waits for them."""
    batch = Batch.objects.select_related("requester").get(pk=batch_id)
    if batch.state != Batch.State.PENDING_APPROVAL or batch.approver_group_id is None:
        return 0
    approvers = (
        User.objects.filter(is_active=True, groups__name=Role.APPROVER)
        .filter(groups__id=batch.approver_group_id)
        .exclude(pk=batch.requester_id)
        .distinct()
    )
    url = settings.PORTAL_BASE_URL + reverse("offboarding:bulk-detail", kwargs={"pk": batch.pk})
    context = {"batch": batch, "url": url}
    return _send("batch_approval_needed", [u.email for u in approvers], context)
