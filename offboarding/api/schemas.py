"""What the API takes and gives, as pydantic schemas (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import model_validator

from connections.types import System
from offboarding.lifecycle import RequestState, StepStatus
from offboarding.models import ActionRequest, SystemVerification

# The model's own choices, so the document's enums cannot drift from what is stored.
Kind = ActionRequest.Kind
SystemName = System
State = RequestState
Origin = ActionRequest.Origin


class Person(Schema):
    okta_id: str
    login: str
    email: str
    name: str
    status: str = Field(description="Okta's status, e.g. ACTIVE or SUSPENDED.")
    allowed_actions: list[Kind] = Field(
        description="What this token's team may request for this person."
    )


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NoNulSchema(Schema):
    """An input body that refuses NUL characters anywhere (PostgreSQL cannot store them in text or
    JSON and no field has a use for them): a 422 naming the problem, never a 500."""

    @model_validator(mode="after")
    def _refuse_nul(self) -> NoNulSchema:
        if _has_nul(self.model_dump()):
            raise ValueError("NUL characters (\\u0000) are not allowed anywhere in the body")
        return self


class RequestIn(NoNulSchema):
    kind: Kind
    person: str = Field(
        min_length=1, max_length=254, description="The person's Okta id, login or email."
    )
    systems: list[SystemName] = Field(min_length=1, max_length=4)
    options: dict[str, bool | int | str] = Field(
        default_factory=dict, description="The playbook's options, e.g. okta_deactivate."
    )
    reason: str = Field(min_length=1, max_length=2000)
    ticket: str = Field(default="", max_length=100)
    scheduled_for: datetime | None = Field(
        default=None,
        description="Run no earlier than this (e.g. the end of a last working day); with a "
        "time zone. Still needs approval first.",
    )
    confirm_repeat: bool = Field(
        default=False,
        description="Required (true) to offboard someone this portal already offboarded; "
        "without it such a request is refused (422) and the message names the earlier request.",
    )


class PlanItem(Schema):
    system: str
    label: str = ""
    exists: bool | None = None
    state: str = ""
    locked_out: bool | None = None
    summary: str = ""
    warning: str | None = None
    steps: list[dict[str, str]] = Field(default_factory=list)


class Step(Schema):
    key: str
    system: str
    operation: str
    label: str
    status: StepStatus
    outcome: str
    detail: str
    attempts: int
    result: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None


class Verification(Schema):
    system: str
    verdict: SystemVerification.Verdict
    summary: str
    at: datetime


class RequestOut(Schema):
    id: int
    url: str
    kind: Kind
    state: State
    state_note: str
    person: dict[str, str] = Field(description="okta_id, login, email, name as Okta said then.")
    systems: list[str]
    options: dict[str, Any]
    reason: str
    ticket: str
    origin: Origin
    origin_detail: str
    requester: str
    approvals_needed: int
    approvals_given: int
    scheduled_for: datetime | None
    requested_at: datetime | None
    expires_at: datetime | None
    approved_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    plan: list[PlanItem] = Field(description="Per system, what was found at creation.")
    steps: list[Step] = Field(description="Once approved: each step and how it went.")
    verification: list[Verification] = Field(description="What each system showed afterwards.")


class RequestSummary(Schema):
    id: int
    url: str
    kind: Kind
    state: State
    person_okta_id: str
    person_login: str
    origin: Origin
    origin_detail: str
    requested_at: datetime | None
    finished_at: datetime | None


class RequestPage(Schema):
    items: list[RequestSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class CancelIn(NoNulSchema):
    comment: str = Field(default="", max_length=2000)
