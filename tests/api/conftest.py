"""The REST API's fixtures: the offboarding fakes, a token per scope set, a client that checks every
answer against the served OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator

from offboarding import services
from offboarding.models import ApiToken
from tests.offboarding.conftest import *  # noqa: F403  (fake registry, team, delegation, queue)

ALL_SCOPES = list(ApiToken.Scope.values)


def _schema_document(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


class ContractClient:
    """A Django test client for the API whose every answer must match the OpenAPI document:
    the status is documented for the operation, the media type is the documented one, and the
    body validates against the documented schema (JSON Schema 2020-12, as OpenAPI 3.1 says)."""

    def __init__(self, client: Client, document: dict[str, Any], token: str | None) -> None:
        self.client = client
        self.document = document
        self.token = token
        self.checked = 0

    def _operation(self, method: str, path: str) -> dict[str, Any]:
        bare = path.split("?")[0]
        for template, operations in self.document["paths"].items():
            parts, want = template.strip("/").split("/"), bare.strip("/").split("/")
            if len(parts) == len(want) and all(
                p == w or p.startswith("{") for p, w in zip(parts, want, strict=True)
            ):
                if method.lower() in operations:
                    return operations[method.lower()]
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def check(self, method: str, path: str, response: Any) -> None:
        operation = self._operation(method, path)
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, (
            f"{method} {path} answered {response.status_code}, not documented: "
            f"{response.content[:300]!r}"
        )
        media = response["Content-Type"].split(";")[0].strip()
        assert media in documented["content"], (media, list(documented["content"]))
        schema = documented["content"][media]["schema"]
        root = {**schema, "components": self.document["components"]}
        Draft202012Validator(root).validate(json.loads(response.content))
        self.checked += 1

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if self.token is not None and "HTTP_AUTHORIZATION" not in extra:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        kwargs: dict[str, Any] = dict(extra)
        if body is not None:
            kwargs.update(
                data=body if isinstance(body, str) else json.dumps(body),
                content_type="application/json",
            )
        response = getattr(self.client, method.lower())(path, **kwargs)
        self.check(method, path, response)
        return response

    def get(self, path: str, **headers: str) -> Any:
        return self.call("GET", path, **headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.call("POST", path, body, **headers)


@pytest.fixture
def make_token(delegation, connection_admin):
    """make_token(scopes=[...], name=...) → (ApiToken, the token string)."""

    def make(scopes=None, *, name: str = "hr-system", team=None, **extra: Any):
        return services.api_token_create(
            actor=connection_admin,
            name=name,
            team=team or delegation.team,
            scopes=scopes or ALL_SCOPES,
            **extra,
        )

    return make


@pytest.fixture
def openapi_document(client) -> dict[str, Any]:
    return _schema_document(client)


@pytest.fixture
def api_as(client, openapi_document):
    """api_as(token_string_or_None) → a ContractClient sending that bearer token."""

    def make(token: str | None) -> ContractClient:
        return ContractClient(client, openapi_document, token)

    return make


@pytest.fixture
def api(api_as, make_token, fake_registry):
    """A client with a token holding every scope, for the service-desk team."""
    _, raw = make_token()
    return api_as(raw)


def request_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "offboard",
        "person": "pat@example.com",
        "systems": ["okta", "google", "msgraph", "zoom"],
        "options": {},
        "reason": "Left the company (HR-1234)",
        "ticket": "HR-1234",
    }
    body.update(overrides)
    return body
