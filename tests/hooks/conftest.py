"""Fixtures for the Okta event hook tests: an Okta connection with its hook, and Okta's envelope."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import pytest

from connections.models import Connection
from offboarding.models import EventHook
from tests.offboarding.conftest import (  # noqa: F401 (fixtures)
    approve,
    approved,
    delegation,
    fake_registry,
    make_request,
    managers,
    protected,
    queue,
    team,
)

SECRET = "hook-secret-0123456789abcdef"  # noqa: S105 (a test value)
_counter = itertools.count(1)


@pytest.fixture
def okta_connection(db) -> Connection:
    return Connection.objects.create(system="okta", label="Okta", enabled=False)


@pytest.fixture
def hook(okta_connection) -> EventHook:
    hook = EventHook(connection=okta_connection, header_name="Authorization")
    hook.set_secret(SECRET)
    hook.save()
    return hook


@pytest.fixture
def hook_url(hook) -> str:
    return f"/hooks/okta/{hook.connection_id}/"


def log_event(
    event_type: str = "user.lifecycle.suspend",
    user_id: str = "00u1",
    *,
    group_id: str = "",
    event_uuid: str | None = None,
) -> dict[str, Any]:
    """A System Log LogEvent as Okta sends it (only the fields the portal reads, plus a few)."""
    targets = [{"id": user_id, "type": "User", "alternateId": "pat@example.com"}]
    if group_id:
        targets.append({"id": group_id, "type": "UserGroup", "displayName": "Offboarding"})
    return {
        "uuid": event_uuid or str(uuid.uuid4()),
        "published": "2026-12-01T10:00:00.000Z",
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "displayMessage": event_type,
        "actor": {"id": "00uAdmin", "type": "User", "alternateId": "admin@example.com"},
        "outcome": {"result": "SUCCESS"},
        "target": targets,
    }


def envelope(*events: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": "https://example.okta.com/api/v1/eventHooks/who1",
        "eventId": event_id or f"evt-{next(_counter)}-{uuid.uuid4()}",
        "eventTime": "2026-12-01T10:00:01.000Z",
        "contentType": "application/json",
        "data": {"events": list(events)},
    }


@pytest.fixture
def deliver(client, hook_url, django_capture_on_commit_callbacks):
    def post(body: Any, *, secret: str | None = SECRET, raw: bytes | None = None, **headers: str):
        extra = {"HTTP_AUTHORIZATION": secret} if secret is not None else {}
        extra.update(headers)
        data = raw if raw is not None else json.dumps(body).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(hook_url, data=data, content_type="application/json", **extra)

    return post
