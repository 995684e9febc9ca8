"""Appending to the chain: seal an event in the caller's transaction, link it now or right after.

Each event carries a sequence number, the previous event's hash and its own hash, an HMAC-SHA256
(keyed with PORTAL_AUDIT_KEY, never SECRET_KEY) over canonical JSON of the event. The head row holds
the last sequence number and hash, signed, so a truncated chain with a re-pointed head is detected.

Linking is serialised by the head row's lock (SQLite serialises writers anyway), and no writer ever
waits for it. A writer that finds the head free (FOR UPDATE SKIP LOCKED) links inline, in its own
transaction, as before. A writer that finds it busy inserts the event *sealed* (its HMAC over its
contents, no sequence yet) and commits in parallel with the others. After its commit, every writer
looks for sealed events and, if the head is free, links them all in one short batch that need not
wait for its own disk flush; if the head is busy, its holder does the same after its own commit,
which comes after ours. So no sealed event is left behind (the sweeper links any a crash left),
writers share commits instead of queueing behind the head through each commit's flush, and the
chain's order is the order of linking.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.utils import timezone

from offboarding.audit.signing import (
    CONTENT_FIELDS,
    GENESIS_HASH,
    audit_key,
    compute_hash,
    payload_bytes,
    scrub,
    sign,
)
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
    sql = _claim_sql(connection.vendor, wait=wait, relaxed=relaxed)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    if row is None or not row[3]:
        AuditChainHead.objects.get_or_create(pk=1)
        return _claim_head(wait=wait, relaxed=relaxed)
    if row[0] is None:
        return None  # another transaction holds it
    return int(row[0]), str(row[1]), bool(row[2])


def _tables() -> tuple[str, str]:
    return (
        connection.ops.quote_name(AuditEvent._meta.db_table),
        connection.ops.quote_name(AuditChainHead._meta.db_table),
    )


def _sealed_sql() -> str:
    """Whether any event waits sealed (the partial index offboarding_audit_pending answers it)."""
    return f"SELECT EXISTS (SELECT 1 FROM {_tables()[0]} WHERE seq IS NULL)"  # noqa: S608


def _head_free_sql() -> str:
    """PostgreSQL, outside a transaction: whether no transaction holds the head right now."""
    head = _tables()[1]
    return f"SELECT EXISTS (SELECT 1 FROM {head} WHERE id = 1 FOR UPDATE SKIP LOCKED)"  # noqa: S608


@functools.cache
def _claim_sql(vendor: str, *, wait: bool, relaxed: bool) -> str:
    """The head claim's one statement (built once: appends are the portal's hottest write)."""
    events, head = _tables()
    sealed = f"EXISTS (SELECT 1 FROM {events} WHERE seq IS NULL)"  # noqa: S608 - table names
    if vendor == "postgresql":
        flush = "set_config('synchronous_commit', 'off', true)" if relaxed else "''"
        lock = "FOR UPDATE" if wait else "FOR UPDATE SKIP LOCKED"
        # One round trip whether the head is free, busy (no seq) or missing (present is false).
        return (
            f"SELECT h.seq, h.hash, {sealed}, p.present, {flush} FROM "  # noqa: S608
            f"(SELECT EXISTS (SELECT 1 FROM {head} WHERE id = 1) AS present) AS p "
            f"LEFT JOIN LATERAL (SELECT seq, hash FROM {head} WHERE id = 1 {lock}) AS h ON true"
        )
    return f"SELECT seq, hash, {sealed}, 1 FROM {head} WHERE id = 1"  # noqa: S608


def _save_head(seq: int, hash_: str, key: bytes) -> None:
    signature = sign("head", seq, hash_, key=key)
    AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=hash_, signature=signature)


_SEALED_FIELDS = ("id", *CONTENT_FIELDS, "hash")


def _mac(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _link_sealed(
    seq: int, prev: str, key: bytes, limit: int = LINK_BATCH
) -> tuple[int, str, int, set[int]]:
    """Link sealed events (oldest first) after the head; returns the new head, how many were read
    and the ids left out because they no longer match their seal."""
    prev = prev or GENESIS_HASH
    sealed_rows = AuditEvent.objects.filter(seq__isnull=True).order_by("id")
    rows = list(sealed_rows.values_list(*_SEALED_FIELDS)[:limit])
    links: list[tuple[int, int, str, str]] = []
    bad = set()
    for (
        pk,
        at,
        actor_id,
        label,
        action,
        object_type,
        object_id,
        target,
        ip,
        details,
        sealed,
    ) in rows:
        body = (at, actor_id, label, action, object_type, object_id, target, ip, details)
        if not hmac.compare_digest(sealed, _mac(key, payload_bytes(None, *body, prev_hash=""))):
            # Never launder a changed event into the chain: leave it sealed, verification says so.
            log.error("audit event id %s does not match its seal; left out of the chain", pk)
            bad.add(pk)
            continue
        digest = _mac(key, payload_bytes(seq + 1, *body, prev_hash=prev))
        links.append((pk, seq + 1, prev, digest))
        seq, prev = seq + 1, digest
    if links:
        _write_links(links)
    return seq, prev, len(rows), bad


def _write_links(links: list[tuple[int, int, str, str]]) -> None:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement for the whole batch
            values = ", ".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(links))
            cursor.execute(
                f"UPDATE {table} AS e SET seq = v.seq, prev_hash = v.prev, hash = v.hash "  # noqa: S608
                f"FROM (VALUES {values}) AS v(id, seq, prev, hash) "
                "WHERE e.id = v.id AND e.seq IS NULL",
                [value for link in links for value in link],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s "  # noqa: S608
                "WHERE id = %s AND seq IS NULL",
                [(seq, prev, digest, pk) for pk, seq, prev, digest in links],
            )


def _sealed_waiting(skip: set[int] | frozenset[int] = frozenset()) -> bool:
    if skip:
        return AuditEvent.objects.filter(seq__isnull=True).exclude(pk__in=skip).exists()
    with connection.cursor() as cursor:
        cursor.execute(_sealed_sql())
        return bool(cursor.fetchone()[0])


def audit_chain_link(*, wait: bool = True, limit: int = LINK_BATCH) -> int:
    """Link every sealed event into the chain, in batches; returns how many were linked.

    `wait=False` gives up at once when another transaction holds the head: that holder looks for
    sealed events again after its commit (see `_after_commit`), so none is ever stranded."""
    key, linked = audit_key(), 0
    bad: set[int] = set()
    while True:
        with transaction.atomic():
            claimed = _claim_head(wait=wait, relaxed=True)
            if claimed is None:
                return linked
            head_seq, head_hash, waiting = claimed
            seq, hash_, skipped = head_seq, head_hash, set[int]()
            if waiting:
                seq, hash_, _, skipped = _link_sealed(head_seq, head_hash, key, limit)
            if seq != head_seq:
                _save_head(seq, hash_, key)
        linked, bad = linked + seq - head_seq, bad | skipped
        # Events sealed while we held the head: their writers' attempts failed on our lock.
        if not _sealed_waiting(bad):
            return linked


def _after_commit(*, sealed: bool = False) -> None:
    """After any append: link what is sealed if the head is free; whoever holds it does the same
    after its own commit, and every append that found the head busy committed before trying.
    SQLite never finds the head busy (its IMMEDIATE transactions run one writer at a time): no
    event can have been sealed while this one held it, so the look is spared there."""
    if sealed or (connection.vendor == "postgresql" and _sealed_waiting()):
        audit_chain_link(wait=False)


_COLUMNS = "at, actor_id, actor_label, action, object_type, object_id, target, ip, details, prev_hash, hash, seq"


def _insert(event: AuditEvent, key: bytes, *, move_head: bool) -> None:
    """Insert the event, and move the head to it when it was linked inline. On PostgreSQL this is
    one statement without the ORM: appends are the hottest write of the portal."""
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        if move_head:
            _save_head(int(event.seq or 0), event.hash, key)
        return
    sql, params = _insert_statement(event, key, move_head=move_head)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        _inserted(event, cursor.fetchone()[0])


def _insert_statement(event: AuditEvent, key: bytes, *, move_head: bool) -> tuple[str, list[Any]]:
    """PostgreSQL: the INSERT (and the head's move) as one statement returning the event's id."""
    events, head = _tables()
    sql = (
        f"INSERT INTO {events} ({_COLUMNS}) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) RETURNING id"
    )
    params: list[Any] = [
        event.at,
        event.actor_id,
        event.actor_label,
        event.action,
        event.object_type,
        event.object_id,
        event.target,
        event.ip,
        json.dumps(event.details),
        event.prev_hash,
        event.hash,
        event.seq,
    ]
    if move_head:
        sql = (
            f"WITH e AS ({sql}) UPDATE {head} SET seq = %s, hash = %s, signature = %s "  # noqa: S608
            "WHERE id = 1 RETURNING (SELECT id FROM e)"
        )
        params += [event.seq, event.hash, sign("head", event.seq, event.hash, key=key)]
    return sql, params


def _append_alone(event: AuditEvent, key: bytes) -> bool:
    """PostgreSQL, outside any transaction: the same append as audit_record's in two round trips
    instead of five. "BEGIN; claim", then "insert and move the head; COMMIT; any sealed events?"
    are each sent as one string (psycopg's client-side binding allows several statements); the
    transaction, the head's lock, the synchronous commit and the look for sealed events after it
    are those of the general path. An event sealed because the head was busy asks, in its commit's
    string, whether the head is free now, and links only then (busy: its holder will).
    False when it does not apply (the caller takes the general path).
    """
    with connection.cursor() as cursor:
        if connection.in_atomic_block or not _client_binding(cursor.cursor):
            return False
        cursor.execute("BEGIN; " + _claim_sql("postgresql", wait=False, relaxed=False))
        try:
            cursor.cursor.nextset()
            row = cursor.fetchone()
            if row is None or not row[3]:  # no head row yet: the general path makes it
                cursor.execute("ROLLBACK")
                return False
            if row[0] is None:  # another transaction holds the head: commit the event sealed
                event.hash = compute_hash(event, key=key)
                sql, params = _insert_statement(event, key, move_head=False)
                # After the commit, one look whether the head is free now: if it is busy, its
                # holder commits after us and links this event then (as in _after_commit).
                cursor.execute(f"{sql}; COMMIT; {_head_free_sql()}", params)
                _inserted(event, cursor.fetchone()[0])
                cursor.cursor.nextset()
                cursor.cursor.nextset()
                sealed = bool(cursor.fetchone()[0])
            else:
                seq, prev = int(row[0]), str(row[1])
                if row[2]:
                    seq, prev, _, _ = _link_sealed(seq, prev, key)
                event.seq, event.prev_hash = seq + 1, prev or GENESIS_HASH
                event.hash = compute_hash(event, key=key)
                sql, params = _insert_statement(event, key, move_head=True)
                cursor.execute(f"{sql}; COMMIT; {_sealed_sql()}", params)
                _inserted(event, cursor.fetchone()[0])
                cursor.cursor.nextset()
                cursor.cursor.nextset()
                sealed = bool(cursor.fetchone()[0])
        except BaseException:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            raise
    if sealed:  # as the general path's on-commit hook (robust: a failure here is only logged)
        try:
            audit_chain_link(wait=False)
        except Exception:
            log.exception("linking sealed audit events after an append failed; the sweeper will")
    return True


def _client_binding(cursor: Any) -> bool:
    """Whether the driver's cursor binds parameters client-side (Django's default on psycopg 3)."""
    import psycopg

    return isinstance(cursor, psycopg.ClientCursor)


def _inserted(event: AuditEvent, pk: int) -> None:
    event.pk = pk
    event._state.adding, event._state.db = False, connection.alias


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
    if connection.vendor == "postgresql" and _append_alone(event, key):
        return event
    # Inside the caller's transaction no savepoint of its own (two round trips per event): an
    # append that fails fails the caller's transaction with it, as the caller's own writes would.
    with transaction.atomic(savepoint=False):
        claimed = _claim_head(wait=False)
        if claimed is not None:
            seq, prev, waiting = claimed
            if waiting:
                seq, prev, _, _ = _link_sealed(seq, prev, key)
            event.seq, event.prev_hash = seq + 1, prev or GENESIS_HASH
            event.hash = compute_hash(event, key=key)
            _insert(event, key, move_head=True)
        else:
            event.hash = compute_hash(event, key=key)
            _insert(event, key, move_head=False)
        after = functools.partial(_after_commit, sealed=event.seq is None)
        transaction.on_commit(after, robust=True)
    return event
