"""Nothing lost (issue 14): read Okta's System Log for the subscribed event types and store what a
missed delivery would have brought, de-duplicated by the same `uuid` as the hook's events.

A polling request as Okta advises (CONTRACTS.md §1.7): the first run starts `since` a window back,
every later run requests exactly the stored `next` link, saved after each page. Also queues again
the events still waiting after a while (a lost task, Okta unreachable when it ran).
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from connections import registry
from connections import selectors as connection_selectors
from connections.types import ConnectorError, System
from offboarding import progress
from offboarding.exceptions import InvalidRequest
from offboarding.models.hooks import EVENT_TYPES, HookEvent, SyslogCursor
from offboarding.services.hooks import HANDLE_TASK, events_store, parse_log_event

logger = logging.getLogger(__name__)

FIRST_WINDOW = timedelta(hours=24)
STUCK_AFTER = timedelta(minutes=2)
MAX_PAGES = 10


def log_filter() -> str:
    return " or ".join(f'eventType eq "{t}"' for t in EVENT_TYPES)


def okta_events_reconcile(*, max_pages: int = MAX_PAGES) -> str:
    """Read the System Log from the stored cursor; returns what it did, in words."""
    requeued = _requeue_stuck()
    connection = connection_selectors.connection_get_enabled(System.OKTA)
    if connection is None:
        return "no enabled Okta connection"
    cursor, _ = SyslogCursor.objects.get_or_create(connection=connection)
    found = 0
    for _page in range(max_pages):
        since = "" if cursor.next_url else (timezone.now() - FIRST_WINDOW).isoformat()
        try:
            events, next_url = registry.okta_log_events(
                next_url=cursor.next_url,
                since=since,
                filter_expr="" if cursor.next_url else log_filter(),
            )
        except ConnectorError as exc:
            if exc.code == "foreign_link":  # the Okta URL changed: start again, dedup covers it
                SyslogCursor.objects.filter(pk=cursor.pk).update(next_url="")
            logger.warning("System Log reconciliation stopped: %s", exc.message)
            return f"stopped: {exc.message}"
        with transaction.atomic():
            found += len(events_store(_parsed(events), source=HookEvent.Source.SYSLOG))
            cursor.next_url = next_url or cursor.next_url
            cursor.last_run_at = timezone.now()
            cursor.last_found = found
            cursor.save(update_fields=["next_url", "last_run_at", "last_found"])
        if not events or not next_url:
            break  # caught up: an empty page (Okta still sends a next link when polling)
    return f"{found} missed event(s) found, {requeued} waiting event(s) queued again"


def _parsed(events: list[dict]) -> list[dict]:
    """The events the portal can use; a malformed one is logged and skipped, never fatal."""
    kept = []
    for i, event in enumerate(events):
        try:
            parsed = parse_log_event(event, f"log[{i}]")
        except InvalidRequest as exc:
            logger.warning("System Log event skipped: %s", exc.message)
            continue
        if parsed["event_type"] in EVENT_TYPES:
            kept.append(parsed)
    return kept


def _requeue_stuck() -> int:
    """Queue again the events that still wait well after they came."""
    before = timezone.now() - STUCK_AFTER
    ids = list(
        HookEvent.objects.filter(status=HookEvent.Status.WAITING, received_at__lt=before)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        transaction.on_commit(functools.partial(progress.queue_task, HANDLE_TASK, pk))
    return len(ids)
