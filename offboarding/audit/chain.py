"""Appending to the chain: seal an event in the caller's transaction, link it now or right after.

Each event carries a sequence number, the previous event's hash and its own hash, an HMAC-SHA256
(keyed with PORTAL_AUDIT_KEY, never SECRET_KEY) over canonical JSON of the event. The head row holds
the last sequence number and hash, signed, so a truncated chain with a re-pointed head is detected.

Linking is serialised by the head row's lock (SQLite serialises writers anyway). A writer that finds
the head free (FOR UPDATE SKIP LOCKED) links inline, in its own transaction, as before. A writer that
finds it busy does not queue: it inserts the event *sealed* (its HMAC over its contents, no sequence
yet) and commits in parallel with the others; right after its commit it waits for the head and links
every sealed event in one short batch that need not wait for its own disk flush. Writers thus share
commits instead of queueing behind the head's lock through each commit's flush; every event is linked
before its writer's request ends (the sweeper links any a crash left); the chain's order is the order
of linking.
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

LINK_BATCH = 2000


def _actor_label(actor: AnyUser | None) -> str:
    if actor is None or not actor.is_authenticated:
        return ""
    return actor.get_username()


def _claim_head(*, wait: bool, relaxed: bool = False) -> tuple[int, str, bool] | None:
    """Lock the head row for this transaction and return its sequence number, its hash and whether
    sealed events wait; None when another transaction holds it and `wait` is false.

    The head's row lock is the linking lock: FOR UPDATE returns its latest committed version, and
    SKIP LOCKED makes the writers' attempt non-blocking (SQLite: its IMMEDIATE transactions
    serialise writers already). `relaxed`: a transaction that only links need not wait for its own
    flush, since linking can be redone from the sealed rows; the checkpoint writer commits
    synchronously before it sends anything out."""
    head, events = (
        connection.ops.quote_name(m._meta.db_table) for m in (AuditChainHead, AuditEvent)
    )
    postgres = connection.vendor == "postgresql"
    flush = "set_config('synchronous_commit', 'off', true)" if relaxed and postgres else "''"
    lock = (" FOR UPDATE" if wait else " FOR UPDATE SKIP LOCKED") if postgres else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT seq, hash, EXISTS (SELECT 1 FROM {events} WHERE seq IS NULL), {flush} "  # noqa: S608
            f"FROM {head} WHERE id = 1{lock}"
        )
        row = cursor.fetchone()
    if row is None:
        if AuditChainHead.objects.filter(pk=1).exists():
            return None  # busy
        AuditChainHead.objects.get_or_create(pk=1)
        return _claim_head(wait=wait, relaxed=relaxed)
    return int(row[0]), str(row[1]), bool(row[2])


def _save_head(seq: int, hash_: str, key: bytes) -> None:
    signature = sign("head", seq, hash_, key=key)
    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=hash_, signature=signature)


def _link_sealed(
    seq: int, prev: str, key: bytes, limit: int = LINK_BATCH
) -> tuple[int, str, int, set[int]]:
    """Link sealed events (oldest first) after the head; returns the new head, how many were read
    and the ids left out because they no longer match their seal."""
    prev = prev or GENESIS_HASH
    rows = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:limit])
    links, bad = [], set()
    for event in rows:
        if not hmac.compare_digest(event.hash, compute_hash(event, key=key)):
            # Never launder a changed event into the chain: leave it sealed, verification says so.
            log.error("audit event id %s does not match its seal; left out of the chain", event.pk)
            bad.add(event.pk)
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
    return seq, prev, len(rows), bad


def audit_chain_link(*, limit: int = LINK_BATCH) -> int:
    """Link every sealed event into the chain, in batches (waiting for the head's lock); returns
    how many were linked."""
    key, linked = audit_key(), 0
    while True:
        with transaction.atomic():
            claimed = _claim_head(wait=True, relaxed=True)
            assert claimed is not None  # noqa: S101 - a waiting claim always gets the row
            head_seq, head_hash, waiting = claimed
            seq, hash_, read = head_seq, head_hash, 0
            if waiting:
                seq, hash_, read, _ = _link_sealed(head_seq, head_hash, key, limit)
            if seq != head_seq:
                _save_head(seq, hash_, key)
        linked += seq - head_seq
        if read < limit or seq == head_seq:  # done, or only events that fail their seal are left
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
        claimed = _claim_head(wait=False)
        if claimed is not None:
            seq, prev, waiting = claimed
            if waiting:
                seq, prev, _, _ = _link_sealed(seq, prev, key)
            event.seq, event.prev_hash = seq + 1, prev or GENESIS_HASH
            event.hash = compute_hash(event, key=key)
            event.save(force_insert=True)
            _save_head(event.seq, event.hash, key)
        else:
            event.hash = compute_hash(event, key=key)
            event.save(force_insert=True)
            # Right after the commit, wait for the head (a short wait: no writer holds it for
            # more than its own transaction) and link every sealed event, this one included.
            transaction.on_commit(_link_after_commit, robust=True)
    return event
