"""`Idempotency-Key` on create: the same key and body get the first answer again; the same key
with another body is refused; two calls at the same instant make one request (the key's row is
unique per token, so only one call owns it while the other waits for its answer)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from offboarding.api.problems import ApiProblem
from offboarding.models import ActionRequest, ApiIdempotencyKey, ApiToken

WAIT_SECONDS = 10.0  # how long a duplicate waits for the first call's answer
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Stored:
    status: int
    body: dict[str, Any]
    content_type: str


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _claim(token: ApiToken, key: str, digest: str) -> bool:
    try:
        with transaction.atomic():
            ApiIdempotencyKey.objects.create(
                token=token, key=key, body_hash=digest, created_at=timezone.now()
            )
        return True
    except IntegrityError:
        return False


def begin(token: ApiToken, key: str, digest: str) -> Stored | None:
    """None: this call owns the key and must `finish` (or `abandon`) it. Else the first answer.
    Raises the 422 problem for another body, the 409 one while the first call is still running."""
    if not _KEY.match(key):
        raise ApiProblem("validation", "An Idempotency-Key is 1–255 visible ASCII characters.")
    ApiIdempotencyKey.forget_expired(timezone.now())  # indexed; any token's
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if _claim(token, key, digest):
            return None
        row = ApiIdempotencyKey.objects.filter(token=token, key=key).first()
        if row is not None and row.body_hash != digest:
            raise ApiProblem(
                "idempotency-key-reused",
                "This Idempotency-Key was sent before with another body: use a new key for a "
                "new request.",
            )
        if row is not None and row.status is not None:
            return Stored(
                status=row.status,
                body=dict(row.response.get("body") or {}),
                content_type=str(row.response.get("content_type", "application/json")),
            )
        if time.monotonic() > deadline:
            raise ApiProblem(
                "idempotency-in-progress",
                "The first call with this Idempotency-Key is still being answered.",
                retry_after=1,
            )
        time.sleep(0.05)


def finish(
    token: ApiToken,
    key: str,
    *,
    status: int,
    body: dict[str, Any],
    content_type: str,
    action_request: ActionRequest | None,
) -> None:
    """Keep the first answer for replays."""
    ApiIdempotencyKey.objects.filter(token=token, key=key).update(
        status=status,
        response={"body": body, "content_type": content_type},
        action_request=action_request,
    )


def abandon(token: ApiToken, key: str) -> None:
    """The first call failed in a way worth retrying (Okta down, a defect): free the key."""
    ApiIdempotencyKey.objects.filter(token=token, key=key, status__isnull=True).delete()
