"""Errors as RFC 9457 `application/problem+json`, each with a stable `type`.

The types are listed once here (`PROBLEMS`), in the OpenAPI document and in the README.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema

from offboarding.exceptions import (
    DuplicateRequest,
    InvalidPlaybook,
    InvalidRequest,
    InvalidTransition,
    NotAllowed,
    OffboardingError,
    OutOfScope,
    ProtectedTarget,
    TargetLookupFailed,
)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"

# slug → (status, title)
PROBLEMS: dict[str, tuple[int, str]] = {
    "unauthenticated": (401, "A valid API token is needed"),
    "scope-missing": (403, "The token lacks the scope this needs"),
    "out-of-scope": (403, "The person is outside the token team's delegations"),
    "protected-person": (403, "The person is protected"),
    "not-allowed": (403, "The token may not do this"),
    "not-found": (404, "Not found"),
    "person-not-found": (404, "Okta has no such person"),
    "duplicate-request": (409, "An open request for this action and person exists"),
    "invalid-state": (409, "The request is not in a state where this applies"),
    "idempotency-in-progress": (409, "The first call with this Idempotency-Key is still running"),
    "validation": (422, "The input is not valid"),
    "idempotency-key-reused": (422, "This Idempotency-Key was used with another body"),
    "rate-limited": (429, "Too many calls: slow down"),
    "okta-unavailable": (503, "Okta could not be read: try again later"),
}


class Problem(Schema):
    """An error: `type` is stable and names the kind of error; `detail` says it in words."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    existing_request_id: int | None = None
    existing_request_url: str | None = None
    retry_after: int | None = None


class ApiProblem(Exception):
    """Raised anywhere in the API; rendered by `render`."""

    def __init__(self, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail
        self.extra = extra


def problem_type(slug: str) -> str:
    return TYPE_BASE + slug


def payload(problem: ApiProblem) -> tuple[int, dict[str, Any]]:
    """The status and the JSON body of a problem."""
    status, title = PROBLEMS[problem.slug]
    return status, {
        "type": problem_type(problem.slug),
        "title": title,
        "status": status,
        "detail": problem.detail,
        **{k: v for k, v in problem.extra.items() if v is not None},
    }


def render(problem: ApiProblem) -> HttpResponse:
    status, body = payload(problem)
    response = HttpResponse(json.dumps(body), status=status, content_type=MEDIA_TYPE)
    if problem.extra.get("retry_after") is not None:
        response["Retry-After"] = str(problem.extra["retry_after"])
    return response


def from_domain(exc: OffboardingError) -> ApiProblem:
    """The problem a service's domain error is, in the service's own words."""
    if isinstance(exc, DuplicateRequest):
        return ApiProblem(
            "duplicate-request",
            exc.message,
            existing_request_id=exc.existing_id,
            existing_request_url=f"/api/v1/requests/{exc.existing_id}",
        )
    if isinstance(exc, ProtectedTarget):
        return ApiProblem("protected-person", exc.message)
    if isinstance(exc, OutOfScope):
        return ApiProblem("out-of-scope", exc.message)
    if isinstance(exc, NotAllowed):
        return ApiProblem("not-allowed", exc.message)
    if isinstance(exc, TargetLookupFailed):
        slug = "okta-unavailable" if exc.retryable else "person-not-found"
        return ApiProblem(slug, exc.message)
    if isinstance(exc, InvalidTransition):
        return ApiProblem("invalid-state", exc.message)
    if isinstance(exc, InvalidRequest | InvalidPlaybook):
        return ApiProblem("validation", exc.message)
    return ApiProblem("validation", exc.message)


def validation_errors(errors: list[dict[str, Any]]) -> ApiProblem:
    """Pydantic's errors, kept to where and what (never the input itself, which may be long)."""
    kept = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in errors
    ]
    where = ", ".join(".".join(e["loc"][1:] or e["loc"]) for e in kept[:3])
    return ApiProblem(
        "validation", f"Check these fields: {where}." if where else "Bad input.", errors=kept
    )


def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The one exception handler the API installs for its own and the services' errors."""
    if isinstance(exc, OffboardingError):
        return render(from_domain(exc))
    assert isinstance(exc, ApiProblem)
    return render(exc)
