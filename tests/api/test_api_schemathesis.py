"""Generated calls (schemathesis, from the served OpenAPI document): whatever is sent, the API never
answers 500, and every answer has a documented status, media type, headers and body."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(db, fake_registry, make_token, make_request):
    make_request("reset_sessions")  # something to read and cancel
    # As Django's test client does: the test's transaction must outlive each WSGI call.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(make_token) -> dict[str, str]:
    _, raw = make_token(name="fuzz")
    return {"Authorization": f"Bearer {raw}"}


def _operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) == 5
    return found


def test_generated_calls_answer_as_documented(api_schema, bearer):
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=bearer, checks=CHECKS)

        run()


def test_generated_calls_without_a_token_get_401(api_schema):
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case):
            response = case.call()
            assert response.status_code == 401
            case.validate_response(response, checks=CHECKS)

        run()
