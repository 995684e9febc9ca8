"""The API's OpenAPI 3.1 document: valid, served without a token, and honoured by every answer."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tests.api.conftest import request_body

pytestmark = pytest.mark.django_db


def test_the_openapi_document_is_valid_openapi_3_1_and_needs_no_token(client, openapi_document):
    assert openapi_document["openapi"].startswith("3.1")
    validate(openapi_document)  # raises on an invalid document
    assert set(openapi_document["paths"]) == {
        "/api/v1/people/{person}",
        "/api/v1/requests",
        "/api/v1/requests/{request_id}",
        "/api/v1/requests/{request_id}/cancel",
    }
    assert openapi_document["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_every_error_is_documented_as_problem_json(openapi_document):
    for path, operations in openapi_document["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == ["application/problem+json"], (
                        path,
                        method,
                        status,
                    )
            assert "401" in operation["responses"] and "429" in operation["responses"]


def test_the_interactive_docs_are_not_served(client):
    # They would load their scripts from a CDN; the document alone is the reference.
    assert client.get("/api/v1/docs").status_code == 404


def test_a_whole_integration_answers_as_documented(api, queue):
    """Look up, create, read, list, cancel: every answer checked against the document."""
    assert api.get("/api/v1/people/pat@example.com").status_code == 200
    created = api.post("/api/v1/requests", request_body(kind="reset_sessions"))
    assert created.status_code == 201
    rid = created.json()["id"]
    assert api.get(f"/api/v1/requests/{rid}").status_code == 200
    assert api.get("/api/v1/requests?limit=1").status_code == 200
    assert api.post(f"/api/v1/requests/{rid}/cancel", {"comment": "HR undid it"}).status_code == 200
    assert api.checked == 5


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/nothing/here", "/api/v1/requests/abc"])
def test_other_addresses_under_the_api_answer_a_problem_never_html(client, path):
    response = client.get(path)
    assert response.status_code in (401, 404, 422)
    assert response["Content-Type"].startswith("application/problem+json"), response.content[:200]
