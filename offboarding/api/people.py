"""GET /people/{person}: look a person up by Okta id, login or email."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from offboarding import services
from offboarding.api.auth import require_scope
from offboarding.api.problems import Problem
from offboarding.api.schemas import Person
from offboarding.models import ActionRequest, ApiToken
from offboarding.signals import client_ip

router = Router(tags=["people"])

ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem, 503: Problem}


@router.get("/people/{person}", response={200: Person, **ERRORS}, summary="Look a person up")
def person_get(request: HttpRequest, person: str) -> Person:
    """A person the token's team may act on, by Okta id, login or email, with the actions the
    team may request for them. 403 when protected or outside the team's delegations."""
    token = require_scope(request, ApiToken.Scope.PEOPLE_READ)
    found = services.api_person_lookup(token=token, person=person, ip=client_ip(request))
    target = found.target
    return Person(
        okta_id=target.okta_id,
        login=target.login,
        email=target.email,
        name=target.name,
        status=target.status,
        allowed_actions=[ActionRequest.Kind(k) for k in found.allowed_actions],
    )
