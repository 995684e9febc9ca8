"""The tamper-evident audit chain: append one event, verify the whole chain.

Each event carries a sequence number, the previous event's hash and its own hash, an HMAC-SHA256
(keyed with PORTAL_AUDIT_KEY, never SECRET_KEY) over canonical JSON of the event. Appends are
serialised by locking the single chain-head row, with a unique sequence number as a backstop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone

from offboarding.models import AuditChainHead, AuditEvent
from offboarding.permissions import AnyUser

GENESIS_HASH = "0" * 64
_SECRET_WORDS = ("password", "secret", "token", "authorization", "private_key", "api_key")


def _key() -> bytes:
    key = settings.PORTAL_AUDIT_KEY
    if not key:
        raise ImproperlyConfigured("PORTAL_AUDIT_KEY is not set: audit events cannot be signed.")
    return key.encode("utf-8")


def _secretish(key: Any, value: Any) -> bool:
    """A secret-looking key whose value could hold one (a yes/no option such as
    `okta_oauth_tokens: true` cannot, and is kept so auditors see what was chosen)."""
    if isinstance(value, bool) or value is None:
        return False
    return any(word in str(key).lower() for word in _SECRET_WORDS)


def _scrub(value: Any) -> Any:
    """Drop anything that looks like a secret from event details, whatever the caller passed."""
    if isinstance(value, dict):
        return {str(k): ("[removed]" if _secretish(k, v) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def canonical_payload(event: AuditEvent) -> bytes:
    """The exact bytes the hash covers: every field but the hash itself, sorted, compact."""
    payload = {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "target": event.target,
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: AuditEvent, *, key: bytes | None = None) -> str:
    return hmac.new(key or _key(), canonical_payload(event), hashlib.sha256).hexdigest()


def _actor_label(actor: AnyUser | None) -> str:
    if actor is None or not actor.is_authenticated:
        return ""
    return actor.get_username()


def audit_record(
    *,
    action: str,
    actor: AnyUser | None = None,
    actor_label: str = "",
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    target: str = "",
    ip: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction (or a new one).

    Never pass a secret: keys that look like one are replaced with "[removed]" anyway.
    """
    if obj is not None:
        object_type = object_type or str(obj._meta.model_name)
        object_id = object_id or obj.pk
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor if isinstance(actor, User) and actor.is_authenticated else None,
            actor_label=actor_label or _actor_label(actor),
            action=str(action),
            object_type=object_type,
            object_id=str(object_id or ""),
            target=target[:254],
            ip=(ip or "")[:45],
            details=_scrub(details or {}),
            prev_hash=head.hash or GENESIS_HASH,
        )
        # Round-trip through JSON so the stored details hash the same when read back.
        event.details = json.loads(json.dumps(event.details))
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int
    broken_at: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.intact:
            return f"chain intact: {self.count} events"
        return f"chain broken at sequence {self.broken_at}: {self.problem}"


def audit_chain_verify(*, batch_size: int = 2000) -> ChainReport:
    """Walk the chain in sequence order; report the first event that does not fit."""
    key = _key()
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            missing = expected_seq if event.seq > expected_seq else event.seq
            return ChainReport(
                False, count, missing, f"expected sequence {expected_seq}, found {event.seq}"
            )
        if event.prev_hash != prev_hash:
            return ChainReport(False, count, event.seq, "does not follow the event before it")
        if not hmac.compare_digest(event.hash, compute_hash(event, key=key)):
            return ChainReport(False, count, event.seq, "contents do not match their signature")
        prev_hash = event.hash
        expected_seq += 1
        count += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq != count:
        return ChainReport(
            False, count, count + 1, f"the chain head says {head.seq} events, found {count}"
        )
    if head is not None and count and head.hash != prev_hash:
        return ChainReport(False, count, count, "the last event does not match the chain head")
    return ChainReport(True, count)
