"""Requests as the API shows them."""

from __future__ import annotations

from offboarding.api.schemas import PlanItem, RequestOut, RequestSummary, Step, Verification
from offboarding.models import ActionRequest, Approval, StepRun, SystemVerification


def _url(req: ActionRequest) -> str:
    return f"/api/v1/requests/{req.pk}"


def _plan(req: ActionRequest) -> list[PlanItem]:
    items = []
    for entry in req.plan or []:
        known = {k: entry[k] for k in PlanItem.model_fields if k in entry}
        known["steps"] = [
            {"key": str(s.get("key", "")), "label": str(s.get("label", ""))}
            for s in entry.get("steps", [])
        ]
        items.append(PlanItem(**known))
    return items


def request_out(req: ActionRequest) -> RequestOut:
    """The whole request: plan, steps and verification (prefetched by the selector)."""
    return RequestOut(
        id=req.pk,
        url=_url(req),
        kind=ActionRequest.Kind(req.kind),
        state=ActionRequest.State(req.state),
        state_note=req.state_note,
        person={
            "okta_id": req.target_okta_id,
            "login": req.target_login,
            "email": req.target_email,
            "name": req.target_name,
        },
        systems=list(req.systems),
        options=dict(req.options),
        reason=req.reason,
        ticket=req.ticket,
        origin=ActionRequest.Origin(req.origin),
        origin_detail=req.origin_detail,
        requester=req.requester.get_username(),
        approvals_needed=req.approvals_needed,
        approvals_given=sum(
            1
            for a in req.approvals.all()
            if a.decision == Approval.Decision.APPROVED and a.fingerprint == req.fingerprint
        ),
        scheduled_for=req.scheduled_for,
        requested_at=req.requested_at,
        expires_at=req.expires_at,
        approved_at=req.approved_at,
        started_at=req.started_at,
        finished_at=req.finished_at,
        plan=_plan(req),
        steps=[
            Step(
                key=s.key,
                system=s.system,
                operation=s.operation,
                label=s.label,
                status=StepRun.Status(s.status),
                outcome=s.outcome,
                detail=s.detail,
                attempts=s.attempts,
                result=dict(s.result or {}),
                started_at=s.started_at,
                finished_at=s.finished_at,
            )
            for s in req.steps.all()
        ],
        verification=[
            Verification(
                system=v.system,
                verdict=SystemVerification.Verdict(v.verdict),
                summary=v.summary,
                at=v.at,
            )
            for v in req.verifications.all()
        ],
    )


def request_summary(req: ActionRequest) -> RequestSummary:
    return RequestSummary(
        id=req.pk,
        url=_url(req),
        kind=ActionRequest.Kind(req.kind),
        state=ActionRequest.State(req.state),
        person_okta_id=req.target_okta_id,
        person_login=req.target_login,
        origin=ActionRequest.Origin(req.origin),
        origin_detail=req.origin_detail,
        requested_at=req.requested_at,
        finished_at=req.finished_at,
    )
