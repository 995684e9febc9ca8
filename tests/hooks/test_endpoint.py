"""The hook endpoint as Okta meets it: verification, auth, body checks, de-duplication, bursts."""

from __future__ import annotations

import json

import pytest

from offboarding.models import AuditEvent, EventHook, HookDelivery, HookEvent
from tests.hooks.conftest import SECRET, envelope, log_event

pytestmark = pytest.mark.django_db

HANDLE = "offboarding.tasks.handle_hook_event"


def test_verification_echoes_the_challenge_and_marks_the_hook_verified(client, hook, hook_url):
    response = client.get(
        hook_url, HTTP_AUTHORIZATION=SECRET, HTTP_X_OKTA_VERIFICATION_CHALLENGE="abc-123"
    )
    assert response.status_code == 200
    assert response.json() == {"verification": "abc-123"}
    hook.refresh_from_db()
    assert hook.verified_at is not None
    audit = AuditEvent.objects.get(action=AuditEvent.Action.HOOK_CHANGED)
    assert audit.details == {"verified": True}


def test_verification_without_the_secret_is_refused(client, hook, hook_url):
    response = client.get(hook_url, HTTP_X_OKTA_VERIFICATION_CHALLENGE="abc-123")
    assert response.status_code == 401
    assert "abc-123" not in response.content.decode()
    hook.refresh_from_db()
    assert hook.verified_at is None


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
def test_a_delivery_without_the_right_header_gets_401_and_nothing_is_stored(
    deliver, hook, queue, secret
):
    response = deliver(envelope(log_event()), secret=secret)
    assert response.status_code == 401
    assert not HookDelivery.objects.exists()
    assert not HookEvent.objects.exists()
    assert queue.sent == []
    assert SECRET not in response.content.decode()


def test_a_hook_without_a_secret_accepts_nothing(okta_connection, client):
    EventHook.objects.create(connection=okta_connection)
    response = client.post(
        f"/hooks/okta/{okta_connection.pk}/",
        data=json.dumps(envelope(log_event())),
        content_type="application/json",
        HTTP_AUTHORIZATION="",
    )
    assert response.status_code == 401
    assert not HookEvent.objects.exists()


def test_an_unknown_connection_is_404(client, hook):
    response = client.post(
        "/hooks/okta/8d5b5a56-3f0c-4a57-9d39-6f5d0f8f7f00/",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=SECRET,
    )
    assert response.status_code == 404


def test_a_good_delivery_is_stored_and_its_events_queued(deliver, hook, queue):
    first, second = log_event(), log_event("user.lifecycle.unsuspend")
    response = deliver(envelope(first, second, event_id="delivery-1"))
    assert response.status_code == 204
    assert HookDelivery.objects.get().event_id == "delivery-1"
    stored = HookEvent.objects.order_by("pk")
    assert [e.uuid for e in stored] == [first["uuid"], second["uuid"]]
    assert stored[0].okta_user_id == "00u1"
    assert [(f, a[0]) for f, a in queue.sent] == [(HANDLE, e.pk) for e in stored]
    hook.refresh_from_db()
    assert hook.last_event_at is not None


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"data": {"events": []}}', "eventId"),
        (b'{"eventId": 5, "data": {"events": []}}', "eventId"),
        (b'{"eventId": "e1", "data": {"events": {}}}', "data.events"),
        (b'{"eventId": "e1", "data": "x"}', "data.events"),
        (b'{"eventId": "e1", "data": {"events": [5]}}', "data.events[0]"),
        (b'{"eventId": "e1", "data": {"events": [{"eventType": "x"}]}}', "uuid"),
        (
            b'{"eventId": "e1", "data": {"events": [{"uuid": "u", "eventType": "x", '
            b'"target": "00u1"}]}}',
            "target",
        ),
        (
            b'{"eventId": "e1", "data": {"events": [{"uuid": "u", "eventType": "x", '
            b'"published": "yesterday"}]}}',
            "published",
        ),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 200_000, "not valid JSON"),  # nesting deeper than the parser goes
    ],
)
def test_malformed_or_wrongly_typed_bodies_get_400_with_a_reason(deliver, hook, queue, raw, words):
    response = deliver(None, raw=raw)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert not HookDelivery.objects.exists()
    assert not HookEvent.objects.exists()
    assert queue.sent == []


def test_a_body_that_is_not_json_by_content_type_gets_400(client, hook, hook_url):
    response = client.post(
        hook_url, data="eventId=1", content_type="text/plain", HTTP_AUTHORIZATION=SECRET
    )
    assert response.status_code == 400


def test_an_oversized_body_gets_413_and_nothing_is_stored(deliver, hook, queue):
    big = envelope(log_event())
    big["padding"] = "x" * (1024 * 1024)
    response = deliver(big)
    assert response.status_code == 413
    assert not HookEvent.objects.exists()


def test_the_same_uuid_delivered_three_times_is_kept_and_handled_once(deliver, hook, queue):
    event = log_event()
    answers = [
        deliver(envelope(event, event_id="retry-1")),  # Okta's retry repeats the eventId
        deliver(envelope(event, event_id="retry-1")),
        deliver(envelope(event, event_id="another-delivery")),  # same event, new envelope
    ]
    assert [r.status_code for r in answers] == [204, 204, 204]
    assert HookEvent.objects.filter(uuid=event["uuid"]).count() == 1
    assert HookDelivery.objects.count() == 2
    assert len(queue.sent) == 1
    hook.refresh_from_db()
    assert hook.duplicates_ignored == 2


def test_a_burst_of_100_deliveries_is_all_stored_and_queued(deliver, hook, queue):
    answers = [deliver(envelope(log_event(user_id=f"00u{i}"))) for i in range(100)]
    assert {r.status_code for r in answers} == {204}
    assert HookEvent.objects.count() == 100
    assert len(queue.sent) == 100
    # The request only stores and enqueues: no policy ran and nothing was audited yet.
    assert not HookEvent.objects.exclude(status=HookEvent.Status.WAITING).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.HOOK_EVENT).exists()


def test_the_hook_url_needs_no_sign_in_but_other_methods_are_refused(client, hook, hook_url):
    assert client.put(hook_url, HTTP_AUTHORIZATION=SECRET).status_code == 405
