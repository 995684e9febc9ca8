"""/requests: create (idempotent with `Idempotency-Key`), read, list with cursor paging, cancel."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, Path, Query, Router, Schema

from offboarding import permissions, selectors_api, services
from offboarding.api import idempotency
from offboarding.api.auth import require_scope
from offboarding.api.problems import MEDIA_TYPE, ApiProblem, Problem, from_domain, payload
from offboarding.api.schemas import (
    CancelIn,
    Kind,
    Origin,
    RequestIn,
    RequestOut,
    RequestPage,
    State,
)
from offboarding.api.serialize import request_out, request_summary
from offboarding.exceptions import OffboardingError, TargetLookupFailed
from offboarding.models import ActionRequest, ApiToken
from offboarding.signals import client_ip

router = Router(tags=["requests"])

RequestId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The request's id.")]

ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}


def _json(status: int, body: dict[str, Any], content_type: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=content_type)
    if status == 201:
        response["Location"] = body["url"]
    return response


def _create(token: ApiToken, payload_in: RequestIn, ip: str) -> tuple[int, dict, str, Any]:
    try:
        req = services.api_request_create(
            token=token,
            person=payload_in.person,
            kind=payload_in.kind,
            systems=list(payload_in.systems),
            options=dict(payload_in.options),
            reason=payload_in.reason,
            ticket=payload_in.ticket,
            scheduled_for=payload_in.scheduled_for,
            ip=ip,
            confirm_repeat=payload_in.confirm_repeat,
        )
    except OffboardingError as exc:
        if isinstance(exc, TargetLookupFailed) and exc.retryable:
            raise
        status, body = payload(from_domain(exc))
        return status, body, MEDIA_TYPE, None
    fresh = selectors_api.api_request_detail(token, req.pk)
    assert fresh is not None
    return 201, request_out(fresh).model_dump(mode="json"), "application/json", req


@router.post(
    "/requests",
    response={201: RequestOut, 409: Problem, 503: Problem, **ERRORS},
    summary="Create a request",
)
def request_create(
    request: HttpRequest,
    payload_in: RequestIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        description="Send the same key to retry safely: the first answer comes back.",
    ),
) -> HttpResponse:
    """Make a request for a person. It waits for a person's approval, as from the portal, unless a
    delegation lets it run at once. 409 when an open request for the same action and person
    exists (its id in `existing_request_id`)."""
    token = require_scope(request, ApiToken.Scope.REQUESTS_CREATE)
    if idempotency_key is None:
        return _json(*_create(token, payload_in, client_ip(request))[:3])
    digest = idempotency.body_hash(payload_in.model_dump(mode="json"))
    stored = idempotency.begin(token, idempotency_key, digest)
    if stored is not None:
        response = _json(stored.status, stored.body, stored.content_type)
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        status, body, content_type, req = _create(token, payload_in, client_ip(request))
    except BaseException:
        idempotency.abandon(token, idempotency_key)
        raise
    idempotency.finish(
        token,
        idempotency_key,
        status=status,
        body=body,
        content_type=content_type,
        action_request=req,
    )
    return _json(status, body, content_type)


def _visible(token: ApiToken, pk: int) -> ActionRequest:
    req = selectors_api.api_request_detail(token, pk)
    if req is None:
        raise ApiProblem("not-found", f"This token's team has no request #{pk}.")
    return req


@router.get(
    "/requests/{request_id}", response={200: RequestOut, **ERRORS}, summary="Read a request"
)
def request_get(request: HttpRequest, request_id: RequestId) -> RequestOut:
    """A request with its plan (from creation), its steps (once approved) and what each system
    showed afterwards. 404 for another team's request."""
    token = require_scope(request, ApiToken.Scope.REQUESTS_READ)
    return request_out(_visible(token, request_id))


class ListFilters(Schema):
    state: State | None = None
    kind: Kind | None = None
    origin: Origin | None = None
    person: str | None = None
    since: datetime | None = None
    cursor: str | None = None
    limit: int = 50


def _cursor_id(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ApiProblem("validation", "The cursor is not one this API gave.") from None
    if value < 1:
        raise ApiProblem("validation", "The cursor is not one this API gave.")
    return value


def _in_utc(since: datetime | None) -> datetime | None:
    """`since` in UTC (PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows)."""
    if since is None:
        return None
    if since.tzinfo is None:
        raise ApiProblem("validation", "since needs a time zone, e.g. 2026-12-01T00:00:00Z.")
    try:
        return since.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before the first representable time
        raise ApiProblem("validation", "since is out of range.") from None


def _cursor_of(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


@router.get("/requests", response={200: RequestPage, **ERRORS}, summary="List requests")
def request_list(request: HttpRequest, filters: Query[ListFilters]) -> RequestPage:
    """The token team's requests, newest first, `limit` (1–100) a page; follow `next_cursor`."""
    token = require_scope(request, ApiToken.Scope.REQUESTS_READ)
    if not 1 <= filters.limit <= 100:
        raise ApiProblem("validation", "limit is between 1 and 100.")
    rows = selectors_api.api_request_list(
        token,
        state=filters.state or "",
        kind=filters.kind or "",
        origin=filters.origin or "",
        person=(filters.person or "").strip(),
        since=_in_utc(filters.since),
        before_id=_cursor_id(filters.cursor),
        limit=filters.limit,
    )
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return RequestPage(
        items=[request_summary(r) for r in rows],
        next_cursor=_cursor_of(rows[-1].pk) if more and rows else None,
    )


@router.post(
    "/requests/{request_id}/cancel",
    response={200: RequestOut, 409: Problem, **ERRORS},
    summary="Cancel a request",
)
def request_cancel(
    request: HttpRequest, request_id: RequestId, body: CancelIn | None = None
) -> RequestOut:
    """Stop a request this token made: steps not yet started are cancelled. A running offboard is
    stopped only in the portal (a person half locked out needs a person's decision)."""
    token = require_scope(request, ApiToken.Scope.REQUESTS_CANCEL)
    req = _visible(token, request_id)
    if permissions.cancel_needs_recent_sign_in(req):
        raise ApiProblem(
            "not-allowed", "A running offboard can only be stopped by a person in the portal."
        )
    services.action_request_cancel(
        action_request_id=req.pk,
        actor=token.service_user,
        comment=body.comment if body else "",
        ip=client_ip(request),
    )
    return request_out(_visible(token, request_id))
