"""Idempotency-Key on create, and the per-token rate limit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.utils import timezone

from offboarding.models import ActionRequest, ApiIdempotencyKey
from tests.api.conftest import request_body


def _problem_type(response) -> str:
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()["type"]


# --- Idempotency-Key ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_key_and_body_get_the_first_answer_again(api):
    first = api.post("/api/v1/requests", request_body(), **{"Idempotency-Key": "hr-evt-1"})
    again = api.post("/api/v1/requests", request_body(), **{"Idempotency-Key": "hr-evt-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert ActionRequest.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(api):
    api.post("/api/v1/requests", request_body(), **{"Idempotency-Key": "hr-evt-2"})
    other = api.post(
        "/api/v1/requests", request_body(reason="Another reason"), **{"Idempotency-Key": "hr-evt-2"}
    )
    assert other.status_code == 422
    assert _problem_type(other) == "/api/v1/problems/idempotency-key-reused"
    assert ActionRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_replayed_too_and_a_new_key_is_a_new_attempt(api, protected, fake_registry):
    fake_registry.add_user("00uA", "root@example.com", groups=(("00gAdmins", "Admins"),))
    body = request_body(person="00uA")
    for _ in range(2):
        answer = api.post("/api/v1/requests", body, **{"Idempotency-Key": "k-protected"})
        assert answer.status_code == 403
        assert _problem_type(answer) == "/api/v1/problems/protected-person"
    assert not ActionRequest.objects.exists()


@pytest.mark.django_db
def test_keys_belong_to_their_token(api_as, make_token, fake_registry):
    _, one = make_token(name="one")
    _, two = make_token(name="two")
    fake_registry.add_user("00u7", "lee@example.com")
    a = api_as(one).post("/api/v1/requests", request_body(), **{"Idempotency-Key": "same"})
    b = api_as(two).post(
        "/api/v1/requests", request_body(person="00u7"), **{"Idempotency-Key": "same"}
    )
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


@pytest.mark.django_db
def test_keys_are_kept_a_day_then_forgotten(api, fake_registry, settings):
    assert settings.PORTAL_API_IDEMPOTENCY_HOURS >= 24
    first = api.post("/api/v1/requests", request_body(), **{"Idempotency-Key": "daily"})
    fake_registry.add_user("00u8", "max@example.com")
    other = request_body(person="00u8")
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        kept = api.post("/api/v1/requests", other, **{"Idempotency-Key": "daily"})
        assert _problem_type(kept) == "/api/v1/problems/idempotency-key-reused"
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        fresh = api.post("/api/v1/requests", other, **{"Idempotency-Key": "daily"})
        assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]


def test_the_sweeper_forgets_keys_past_their_keeping_time_without_a_new_create(
    api, fake_registry, settings
):
    from offboarding import runner

    api.post("/api/v1/requests", request_body(), **{"Idempotency-Key": "old"})
    with time_machine.travel(timezone.now() + timedelta(hours=20)):
        fake_registry.add_user("00u8", "max@example.com")
        api.post("/api/v1/requests", request_body(person="00u8"), **{"Idempotency-Key": "new"})
    later = timezone.now() + timedelta(hours=settings.PORTAL_API_IDEMPOTENCY_HOURS + 1)
    assert runner.sweep(now=later).forgotten_keys == 1
    assert list(ApiIdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_an_unusable_key_is_422(api):
    answer = api.post("/api/v1/requests", request_body(), **{"Idempotency-Key": "has space"})
    assert answer.status_code == 422 and not ActionRequest.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_request(make_token, fake_registry, openapi_document):
    _, raw = make_token()
    start = threading.Barrier(4)
    answers: list = []

    def call() -> None:
        try:
            start.wait()
            answers.append(
                Client().post(
                    "/api/v1/requests",
                    data=request_body(),
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {raw}",
                    HTTP_IDEMPOTENCY_KEY="burst-1",
                )
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ActionRequest.objects.count() == 1
    ids = {a.json()["id"] for a in answers if a.status_code == 201}
    assert [a.status_code for a in answers] == [201] * 4, [a.content for a in answers]
    assert ids == {ActionRequest.objects.get().pk}
    assert ApiIdempotencyKey.objects.count() == 1


# --- rate limit -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_over_its_rate_limit_gets_429_with_retry_after(api_as, make_token, settings):
    settings.PORTAL_API_RATE_LIMIT_PER_MINUTE = 3
    _, busy = make_token(name="busy")
    _, calm = make_token(name="calm")
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        client = api_as(busy)
        assert [client.get("/api/v1/requests").status_code for _ in range(3)] == [200] * 3
        limited = client.get("/api/v1/requests")
        assert limited.status_code == 429
        assert _problem_type(limited) == "/api/v1/problems/rate-limited"
        assert 1 <= int(limited["Retry-After"]) <= 61
        assert limited.json()["retry_after"] == int(limited["Retry-After"])
        assert api_as(calm).get("/api/v1/requests").status_code == 200  # per token
    with time_machine.travel(timezone.now().replace(second=5) + timedelta(minutes=1), tick=False):
        assert api_as(busy).get("/api/v1/requests").status_code == 200
