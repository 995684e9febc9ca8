"""Nothing lost: the System Log reconciliation creates what a missed delivery would have."""

from __future__ import annotations

import pytest

from connections import registry
from connections.types import ConnectorError
from offboarding.models import ActionRequest, HookEvent, SyslogCursor
from offboarding.services.reconcile import okta_events_reconcile
from tests.hooks.conftest import envelope, log_event

pytestmark = pytest.mark.django_db

NEXT = "https://example.okta.com/api/v1/logs?after=cursor-2"


@pytest.fixture
def system_log(monkeypatch, okta_connection):
    """Okta's System Log as pages the test sets; every call recorded."""
    okta_connection.enabled = True
    okta_connection.save()
    pages: list[tuple[list[dict], str]] = []
    calls: list[dict] = []

    def fake(**kwargs):
        calls.append(kwargs)
        return pages.pop(0) if pages else ([], kwargs.get("next_url") or NEXT)

    monkeypatch.setattr(registry, "okta_log_events", fake)
    return pages, calls


def run(queue):
    with queue.capture(execute=True):
        result = okta_events_reconcile()
    queue.drain()
    return result


def test_a_missed_suspension_is_found_and_acted_on(system_log, queue, fake_registry):
    pages, calls = system_log
    missed = log_event("user.lifecycle.suspend", "00u1")
    pages.append(([missed], NEXT))
    run(queue)
    event = HookEvent.objects.get(uuid=missed["uuid"])
    assert event.source == HookEvent.Source.SYSLOG
    assert event.status == HookEvent.Status.DONE
    req = ActionRequest.objects.get()
    assert (req.kind, req.origin_detail, req.state) == (
        "reset_sessions",
        missed["uuid"],
        "succeeded",
    )
    # The first read starts `since` a window back, filtered to the subscribed types.
    assert calls[0]["since"] and 'eventType eq "user.lifecycle.suspend"' in calls[0]["filter_expr"]
    assert SyslogCursor.objects.get().next_url == NEXT


def test_the_next_run_resumes_from_the_stored_next_link(system_log, queue):
    pages, calls = system_log
    pages.append(([], NEXT))
    run(queue)
    run(queue)
    assert calls[-1]["next_url"] == NEXT
    assert calls[-1]["since"] == ""


def test_an_event_the_hook_delivered_is_not_created_twice(
    system_log, deliver, queue, fake_registry
):
    pages, _ = system_log
    event = log_event("user.lifecycle.suspend", "00u1")
    deliver(envelope(event))
    queue.drain()
    pages.append(([event], NEXT))
    run(queue)
    assert HookEvent.objects.filter(uuid=event["uuid"]).count() == 1
    assert ActionRequest.objects.count() == 1


def test_unsubscribed_and_malformed_log_events_are_skipped(system_log, queue):
    pages, _ = system_log
    pages.append(([log_event("user.session.start"), {"uuid": 5}, "x"], NEXT))
    run(queue)
    assert not HookEvent.objects.exists()


def test_okta_unreachable_stops_the_run_and_keeps_the_cursor(system_log, monkeypatch, queue):
    SyslogCursor.objects.create(connection=_connection(), next_url=NEXT)

    def down(**kwargs):
        raise ConnectorError("Okta: timeout", retryable=True, code="timeout")

    monkeypatch.setattr(registry, "okta_log_events", down)
    assert run(queue).startswith("stopped")
    assert SyslogCursor.objects.get().next_url == NEXT


def _connection():
    from connections.models import Connection

    return Connection.objects.get(system="okta")


def test_without_an_enabled_okta_connection_nothing_is_read(okta_connection, queue):
    assert "no enabled Okta connection" in run(queue)
