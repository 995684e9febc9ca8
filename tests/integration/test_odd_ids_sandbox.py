"""A person id of "." or ".." in a page URL answers a clear 404 page and never reaches Okta."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def okta_targets(connected, monkeypatch) -> list[str]:
    """Every request target the sandbox receives (before any routing)."""
    seen: list[str] = []
    app = connected.app
    real_handle = app.handle

    def handle(method, target, *args, **kwargs):
        seen.append(target)
        return real_handle(method, target, *args, **kwargs)

    monkeypatch.setattr(app, "handle", handle)
    return seen


def _signed_in(client, user):
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.mark.parametrize("odd", ["%2E", "%2E%2E", "%2e%2E"])
@pytest.mark.parametrize("page", ["/users/{}/", "/requests/new/{}/"])
def test_a_dot_person_id_answers_404_in_words_and_sends_nothing(
    client, helpdesk, okta_targets, page, odd
):
    response = _signed_in(client, helpdesk).get(page.format(odd))
    text = response.content.decode()
    assert response.status_code == 404, text[:500]
    assert "is not an Okta user id or login" in text
    assert not [t for t in okta_targets if "/api/v1/users" in t or t.endswith("/api/v1/")]


def test_a_real_person_still_opens(client, helpdesk, connected):
    from connections import registry

    okta_id = registry.okta_get_user("alice.anders@acme.example")["id"]
    response = _signed_in(client, helpdesk).get(
        reverse("offboarding:user-detail", kwargs={"okta_id": okta_id})
    )
    assert response.status_code == 200 and "Alice" in response.content.decode()
