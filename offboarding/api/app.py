"""The REST API (django-ninja): its routers, its error handling, its OpenAPI 3.1 document, and the
audit of every call made with a token."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from offboarding import services
from offboarding.api import people, requests
from offboarding.api.auth import TokenAuth
from offboarding.api.problems import (
    MEDIA_TYPE,
    PROBLEMS,
    ApiProblem,
    handle,
    problem_type,
    render,
    validation_errors,
)
from offboarding.exceptions import OffboardingError
from offboarding.signals import client_ip

DESCRIPTION = """Make and follow offboarding requests from another system (an HR system, a
ticketing tool). Send `Authorization: Bearer <token>`; a Connection admin makes tokens on the
portal's API tokens page or with `manage.py create_api_token`. A token acts for one team and may
do only what that team's delegations allow; requests it makes wait for a person's approval.

Errors are `application/problem+json` with a stable `type`:

""" + "\n".join(
    f"- `{problem_type(slug)}` ({status}): {title}" for slug, (status, title) in PROBLEMS.items()
)


class PortalApi(NinjaAPI):
    """NinjaAPI whose OpenAPI document names problem+json as the errors' media type."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    if int(status) >= 400 and "application/json" in answer.get("content", {}):
                        answer["content"] = {MEDIA_TYPE: answer["content"]["application/json"]}
                        if int(status) == 429:
                            answer["headers"] = {
                                "Retry-After": {
                                    "schema": {"type": "integer"},
                                    "description": "Seconds to wait.",
                                }
                            }
        return schema


api = PortalApi(
    title="Offboarding portal API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    docs_url=None,  # the interactive docs load assets from a CDN: the document alone is served
    urls_namespace="api",
)
api.add_router("", people.router)
api.add_router("", requests.router)


def _on_error(request: HttpRequest, exc: Any) -> HttpResponse:
    return handle(request, exc)


api.add_exception_handler(ApiProblem, _on_error)
api.add_exception_handler(OffboardingError, _on_error)
api.add_exception_handler(
    ValidationError, lambda request, exc: render(validation_errors(exc.errors))
)


def _unauthenticated(request: HttpRequest, exc: Any) -> HttpResponse:
    response = render(
        ApiProblem(
            "unauthenticated", "Send a valid, unexpired token as `Authorization: Bearer <token>`."
        )
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


api.add_exception_handler(AuthenticationError, _unauthenticated)
api.add_exception_handler(
    # ninja's own 400 is a body it could not parse (not JSON): a validation problem like the rest.
    HttpError,
    lambda request, exc: render(ApiProblem("validation", "The body must be a JSON object.")),
)
api.add_exception_handler(
    Http404, lambda request, exc: render(ApiProblem("not-found", "No such resource."))
)


def _audited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every call a token made is recorded under its name (API_CALL), whatever the answer."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        token = getattr(request, "api_token", None)
        if token is not None:
            services.api_call_record(
                token=token,
                method=request.method or "",
                path=request.path,
                status=response.status_code,
                ip=client_ip(request),
            )
        return response

    return login_not_required(wrapper)


@login_not_required
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under /api/v1/: a problem too, not the portal's HTML page."""
    return render(ApiProblem("not-found", "No such address in this API (see openapi.json)."))


def urlpatterns() -> list[URLPattern | URLResolver]:
    """The API's routes, each audited and open to token callers (no session sign-in)."""
    patterns, _, _ = api.urls
    wrapped: list[URLPattern | URLResolver] = []
    for p in patterns:
        if isinstance(p, URLPattern) and p.name == "api-root":  # ninja's page for docs_url
            p = URLPattern(p.pattern, not_found, p.default_args, p.name)
        elif isinstance(p, URLPattern):
            p = URLPattern(p.pattern, _audited(p.callback), p.default_args, p.name)
        wrapped.append(p)
    wrapped.append(re_path(r"^(?P<rest>.*)$", not_found, name="not-found"))
    return wrapped
