"""Reads for the REST API and its tokens page: finding a token, and the requests a token may see."""

from __future__ import annotations

import hmac
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from offboarding.models import ActionRequest, ApiToken, StepRun, SystemVerification
from offboarding.models.api import PREFIX_LENGTH, TOKEN_MARK, token_hash


def api_token_find(raw: str) -> ApiToken | None:
    """The usable token this bearer string is (by its public prefix, then its hash), else None."""
    if not raw.startswith(TOKEN_MARK) or len(raw) <= PREFIX_LENGTH or raw[PREFIX_LENGTH] != "_":
        return None
    token = (
        ApiToken.objects.select_related("team", "service_user")
        .filter(prefix=raw[:PREFIX_LENGTH])
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, token_hash(raw)):
        return None
    if not token.usable_at(timezone.now()) or not token.service_user.is_active:
        return None
    return token


def api_tokens_listed() -> QuerySet[ApiToken]:
    """Every token, newest first, for the tokens page."""
    return ApiToken.objects.select_related("team", "created_by", "revoked_by").order_by(
        "-created_at", "-id"
    )


def api_token_get(pk: int) -> ApiToken | None:
    return ApiToken.objects.filter(pk=pk).first()


def api_requests_for(token: ApiToken) -> QuerySet[ActionRequest]:
    """The requests a token may see: those made under its team's delegations (built-in actions
    only: the API's schema names them; custom playbooks, issue 17, are asked for in the portal)."""
    return ActionRequest.objects.filter(
        delegation__team_id=token.team_id, kind__in=ActionRequest.Kind.values
    ).select_related("requester")


def api_request_list(
    token: ApiToken,
    *,
    state: str = "",
    kind: str = "",
    person: str = "",
    origin: str = "",
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[ActionRequest]:
    """One page of the token's requests, newest first (by id: the cursor is the last id seen)."""
    rows = api_requests_for(token)
    if state:
        rows = rows.filter(state=state)
    if kind:
        rows = rows.filter(kind=kind)
    if origin:
        rows = rows.filter(origin=origin)
    if person:
        rows = rows.filter(target_okta_id=person) | rows.filter(target_login__iexact=person)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    return list(rows.order_by("-id")[: limit + 1])


def api_request_detail(token: ApiToken, pk: int) -> ActionRequest | None:
    """One of the token's requests with its steps and verifications, or None (another team's)."""
    return (
        api_requests_for(token)
        .prefetch_related(
            Prefetch("steps", queryset=StepRun.objects.order_by("position", "id")),
            Prefetch("verifications", queryset=SystemVerification.objects.order_by("system")),
            "approvals",
        )
        .filter(pk=pk)
        .first()
    )
