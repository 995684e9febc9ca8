"""Receiving Okta event hook deliveries (issue 14): check the header, validate the envelope, store
each delivery once per `eventId` and each event once per `uuid`, and queue the handling on commit.

Nothing here calls Okta or runs a policy: Okta waits 3 seconds for the answer, so the request only
stores and enqueues (`tasks.handle_hook_event` does the rest).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connections.exceptions import SecretUnavailable
from offboarding import progress
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest
from offboarding.models import AuditEvent, EventHook, HookDelivery, HookEvent

HANDLE_TASK = "offboarding.tasks.handle_hook_event"
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 1000
_ID_MAX = 100


class HookUnauthorized(Exception):
    """The delivery did not carry the configured header and secret (answered 401, nothing kept)."""


@dataclass(frozen=True)
class Receipt:
    new_events: int
    duplicate_events: int
    duplicate_delivery: bool


def hook_authenticate(*, hook: EventHook, headers: Mapping[str, str]) -> None:
    """Raises HookUnauthorized unless the configured header carries the secret (constant time)."""
    if not hook.has_secret:
        raise HookUnauthorized
    sent = headers.get(hook.header_name.lower(), "")
    try:
        expected = hook.decrypt_secret()
    except SecretUnavailable:
        raise HookUnauthorized from None
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HookUnauthorized


def hook_verify(*, hook: EventHook, challenge: str) -> dict[str, str]:
    """Okta's one-time verification: echo the challenge and note that the hook was verified."""
    challenge = challenge.strip()
    if not challenge or len(challenge) > 512:
        raise InvalidRequest("The verification challenge is empty or too long.")
    with transaction.atomic():
        EventHook.objects.filter(pk=hook.pk).update(verified_at=timezone.now())
        audit_record(
            action=AuditEvent.Action.HOOK_CHANGED,
            actor_label="Okta",
            obj=hook,
            details={"verified": True},
        )
    return {"verification": challenge}


def _text(value: Any, where: str, *, required: bool = True, limit: int = _ID_MAX) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidRequest(f"{where} must be a non-empty string.")
    if len(value) > limit:
        raise InvalidRequest(f"{where} is longer than {limit} characters.")
    return value


def _targets(event: dict[str, Any], where: str) -> tuple[str, str]:
    """The User and UserGroup ids among the event's targets (by type, not by position)."""
    targets = event.get("target") or []
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise InvalidRequest(f"{where}.target must be a list of objects.")
    user = next((t.get("id") for t in targets if t.get("type") == "User"), "")
    group = next((t.get("id") for t in targets if t.get("type") == "UserGroup"), "")
    return _text(user or "", f"{where} user id", required=False, limit=64), _text(
        group or "", f"{where} group id", required=False, limit=64
    )


def parse_log_event(event: Any, where: str) -> dict[str, Any]:
    """The fields the portal keeps of one System Log `LogEvent`; raises InvalidRequest in words."""
    if not isinstance(event, dict):
        raise InvalidRequest(f"{where} must be an object.")
    published_text = _text(event.get("published"), f"{where}.published", required=False)
    published: datetime | None = parse_datetime(published_text) if published_text else None
    if published_text and published is None:
        raise InvalidRequest(f"{where}.published is not an ISO 8601 time.")
    user_id, group_id = _targets(event, where)
    return {
        "uuid": _text(event.get("uuid"), f"{where}.uuid"),
        "event_type": _text(event.get("eventType"), f"{where}.eventType", limit=120),
        "published": published,
        "okta_user_id": user_id,
        "okta_group_id": group_id,
        "payload": {k: event.get(k) for k in ("eventType", "published", "actor", "target")},
    }


def parse_envelope(body: Any) -> tuple[str, list[dict[str, Any]]]:
    """The envelope's `eventId` and its events, or InvalidRequest saying what is wrong."""
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object (Okta's event hook envelope).")
    event_id = _text(body.get("eventId"), "eventId")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise InvalidRequest("data.events must be a list.")
    events = data["events"]
    if len(events) > MAX_EVENTS:
        raise InvalidRequest(f"data.events holds more than {MAX_EVENTS} events.")
    return event_id, [parse_log_event(e, f"data.events[{i}]") for i, e in enumerate(events)]


def hook_delivery_receive(*, hook: EventHook, body: Any) -> Receipt:
    """Store one delivery and its new events, queue their handling on commit.

    A repeated `eventId` or `uuid` is accepted and ignored (counted on the hook).
    Raises InvalidRequest for a malformed envelope, with nothing stored.
    """
    event_id, events = parse_envelope(body)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                delivery = HookDelivery.objects.create(
                    hook=hook, event_id=event_id, event_count=len(events)
                )
        except IntegrityError:
            _count(hook, now, duplicates=len(events) or 1)
            return Receipt(0, len(events), True)
        new_ids = events_store(events, source=HookEvent.Source.HOOK, delivery=delivery)
        _count(hook, now, duplicates=len(events) - len(new_ids))
    return Receipt(len(new_ids), len(events) - len(new_ids), False)


LAST_EVENT_GRAIN = timedelta(seconds=5)


def _count(hook: EventHook, now: datetime, *, duplicates: int) -> None:
    """The hook's counters for the Connections page. Without duplicates, "last event" is moved
    at most every few seconds, so a burst of deliveries does not queue on the hook's row."""
    if duplicates:
        EventHook.objects.filter(pk=hook.pk).update(
            last_event_at=now, duplicates_ignored=F("duplicates_ignored") + duplicates
        )
        return
    EventHook.objects.filter(pk=hook.pk).filter(
        Q(last_event_at__isnull=True) | Q(last_event_at__lt=now - LAST_EVENT_GRAIN)
    ).update(last_event_at=now)


def events_store(
    events: list[dict[str, Any]], *, source: str, delivery: HookDelivery | None = None
) -> list[int]:
    """Insert the events not seen before (by uuid) and queue each one's handling on commit.
    Returns the new rows' ids. The caller holds a transaction."""
    uuids = list(dict.fromkeys(e["uuid"] for e in events))
    seen = set(HookEvent.objects.filter(uuid__in=uuids).values_list("uuid", flat=True))
    fresh = {e["uuid"]: e for e in events if e["uuid"] not in seen}
    HookEvent.objects.bulk_create(
        [HookEvent(source=source, delivery=delivery, **e) for e in fresh.values()],
        ignore_conflicts=True,  # a racing delivery of the same uuid: the first one wins
    )
    rows = HookEvent.objects.filter(uuid__in=list(fresh), source=source, delivery=delivery)
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        transaction.on_commit(functools.partial(progress.queue_task, HANDLE_TASK, pk))
    return ids
