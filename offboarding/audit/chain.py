"""Appending to the chain: seal an event in the caller's transaction, link it now or right after.

Each event carries a sequence number, the previous event's hash and its own hash, an HMAC-SHA256
(keyed with PORTAL_AUDIT_KEY, never SECRET_KEY) over canonical JSON of the event. The head row holds
the last sequence number and hash, signed, so a truncated chain with a re-pointed head is detected.

Linking is serialised (a PostgreSQL advisory lock; SQLite serialises writers anyway). A writer that
finds the chain free links inline, in its own transaction, as before. A writer that finds it busy does
not wait: it inserts the event *sealed* (its HMAC over its contents, no sequence yet) and commits in
parallel with the others; right after its commit it takes the lock and links every sealed event in
one short batch. So concurrent writers share commits instead of queueing behind the head's lock, and
every event is in the chain before its writer's request ends (the sweeper links any a crash left).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.utils import timezone

from offboarding.audit.signing import GENESIS_HASH, audit_key, compute_hash, scrub, sign
from offboarding.models import AuditChainHead, AuditEvent
from offboarding.permissions import AnyUser

log = logging.getLogger(__name__)

# pg_advisory lock id for linking ("audi" in ASCII); only ever taken by this module.
CHAIN_LOCK_ID = 0x61756469
LINK_BATCH = 2000


def _actor_label(actor: AnyUser | None) -> str:
    if actor is None or not actor.is_authenticated:
        return ""
    return actor.get_username()


def _try_chain_lock() -> bool:
    """Take the linking lock for this transaction if it is free (SQLite: always, writers are
    serialised by its IMMEDIATE transactions)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [CHAIN_LOCK_ID])
        return bool(cursor.fetchone()[0])


def _wait_chain_lock() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # Linking can always be redone from the sealed rows, so this transaction need not wait for
        # its own flush; the checkpoint writer commits synchronously before it sends anything out.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_ID])


def _head() -> AuditChainHead:
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    return head


def _save_head(seq: int, hash_: str, key: bytes) -> None:
    signature = sign("head", seq, hash_, key=key)
    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=hash_, signature=signature)


def _link_sealed(head: AuditChainHead, key: bytes, limit: int = LINK_BATCH) -> tuple[int, str, int]:
    """Link sealed events (oldest first) after the head; returns (seq, hash, how many read)."""
    seq, prev = head.seq, head.hash or GENESIS_HASH
    rows = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:limit])
    links = []
    for event in rows:
        if not hmac.compare_digest(event.hash, compute_hash(event, key=key)):
            # Never launder a changed event into the chain: leave it sealed, verification says so.
            log.error("audit event id %s does not match its seal; left out of the chain", event.pk)
            continue
        event.seq, event.prev_hash = seq + 1, prev
        event.hash = compute_hash(event, key=key)
        links.append((event.seq, event.prev_hash, event.hash, event.pk))
        seq, prev = event.seq, event.hash
    if links:
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s "  # noqa: S608
                "WHERE id = %s AND seq IS NULL",
                links,
            )
    return seq, prev, len(rows)


def audit_chain_link(*, limit: int = LINK_BATCH) -> int:
    """Link every sealed event into the chain, in batches; returns how many were linked."""
    key, linked = audit_key(), 0
    while True:
        with transaction.atomic():
            _wait_chain_lock()
            head = _head()
            seq, hash_, read = _link_sealed(head, key, limit)
            if seq != head.seq:
                _save_head(seq, hash_, key)
        linked += seq - head.seq
        if read < limit:
            return linked


def _link_after_commit() -> None:
    audit_chain_link()


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
    """Append one event, inside the caller's transaction (or a new one): linked into the chain at
    once when the chain is free, else sealed now and linked right after the commit.

    Never pass a secret: keys that look like one are replaced with "[removed]" anyway.
    """
    if obj is not None:
        object_type = object_type or str(obj._meta.model_name)
        object_id = object_id or obj.pk
    event = AuditEvent(
        seq=None,
        at=timezone.now(),
        actor=actor if isinstance(actor, User) and actor.is_authenticated else None,
        actor_label=actor_label or _actor_label(actor),
        action=str(action),
        object_type=object_type,
        object_id=str(object_id or ""),
        target=target[:254],
        ip=(ip or "")[:45],
        # Round-trip through JSON so the stored details hash the same when read back.
        details=json.loads(json.dumps(scrub(details or {}))),
        prev_hash="",
    )
    key = audit_key()
    with transaction.atomic():
        if _try_chain_lock():
            head = _head()
            seq, prev, _ = _link_sealed(head, key)
            event.seq, event.prev_hash = seq + 1, prev
            event.hash = compute_hash(event, key=key)
            event.save(force_insert=True)
            _save_head(event.seq, event.hash, key)
        else:
            event.hash = compute_hash(event, key=key)
            event.save(force_insert=True)
            transaction.on_commit(_link_after_commit, robust=True)
    return event
