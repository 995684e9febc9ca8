"""Verifying the chain: the full walk, or incremental from the signed verified-up-to watermark."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.utils import timezone

from offboarding.audit.signing import (
    CONTENT_FIELDS,
    GENESIS_HASH,
    audit_key,
    compute_hash,
    payload_bytes,
    sign,
)
from offboarding.audit.signing import signed as is_signed
from offboarding.models import AuditChainHead, AuditEvent, AuditWatermark

# Events the audit page checks per load at most (about a second); the next load goes on from there.
PER_LOAD = 50_000
_FIELDS = ("seq", *CONTENT_FIELDS, "prev_hash", "hash")


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    count: int
    broken_at: int | None = None
    problem: str = ""
    last_hash: str = ""
    sealed: int = 0  # events sealed but not linked yet
    verified_from: int = 0  # 0: the whole chain was walked; n: events after #n (watermark)
    marked: int | None = None  # the verified-up-to mark before this run (None: no mark row)
    remaining: int = 0  # newer events a limited run left for the next one

    def __str__(self) -> str:
        if not self.intact:
            return f"chain broken at sequence {self.broken_at}: {self.problem}"
        waiting = f" (+{self.sealed} sealed, being linked)" if self.sealed else ""
        if self.remaining:
            return f"chain intact up to event {self.count} ({self.remaining} newer to check)"
        return f"chain intact: {self.count} events{waiting}"


def _broken(count: int, at: int | None, problem: str) -> ChainReport:
    return ChainReport(False, count, at, problem)


def _walk(
    seq: int, prev: str, key: bytes, batch_size: int, stop_at: int | None = None
) -> tuple[int, str, ChainReport | None]:
    """Check every linked event after `seq` (up to `stop_at`) in keyset batches of plain tuples."""
    while True:
        if stop_at is not None:
            batch_size = min(batch_size, stop_at - seq)
            if batch_size <= 0:
                return seq, prev, None
        rows = list(
            AuditEvent.objects.filter(seq__gt=seq)
            .order_by("seq")
            .values_list(*_FIELDS)[:batch_size]
        )
        for row in rows:
            if row[0] != seq + 1:
                missing = seq + 1 if row[0] > seq + 1 else row[0]
                return (
                    seq,
                    prev,
                    _broken(seq, missing, f"expected sequence {seq + 1}, found {row[0]}"),
                )
            if row[10] != prev:
                return seq, prev, _broken(seq, row[0], "does not follow the event before it")
            digest = hmac.new(key, payload_bytes(*row[:11]), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(row[11], digest):
                return seq, prev, _broken(seq, row[0], "contents do not match their signature")
            seq, prev = row[0], row[11]
        if len(rows) < batch_size:
            return seq, prev, None


def _check_head(count: int, last_hash: str, key: bytes, sealed: bool) -> ChainReport | None:
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or (head.seq == 0 and not head.signature):
        if count or sealed:
            return _broken(count, count + 1, "the chain head is missing, yet events exist")
        return None
    if not is_signed(head.signature, "head", head.seq, head.hash, key=key):
        return _broken(count, head.seq, "the chain head is not signed with the audit key")
    if head.seq != count:
        return _broken(count, count + 1, f"the chain head says {head.seq} events, found {count}")
    if count and head.hash != last_hash:
        return _broken(count, count, "the last event does not match the chain head")
    return None


def _check_watermark(count: int, key: bytes, mark: AuditWatermark | None) -> ChainReport | None:
    if mark is None or not mark.seq:
        return None
    if not is_signed(mark.signature, "watermark", mark.seq, mark.hash, key=key):
        return _broken(count, mark.seq, "the verified-up-to mark is not signed with the audit key")
    if mark.seq > count:
        return _broken(
            count, count + 1, f"the chain was verified up to {mark.seq} events, found {count}"
        )
    return None


def _check_sealed(count: int, key: bytes) -> tuple[int, ChainReport | None]:
    sealed = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:10_000])
    for event in sealed:
        if not hmac.compare_digest(event.hash, compute_hash(event, key=key)):
            return len(sealed), _broken(
                count, None, f"event id {event.pk}, not yet linked, does not match its seal"
            )
    return len(sealed), None


def audit_chain_verify(
    *, incremental: bool = False, batch_size: int = 5000, limit: int | None = None
) -> ChainReport:
    """Walk the chain in sequence order (from the start, or only after the signed verified-up-to
    mark when `incremental`); check the signed head, the mark and sealed events; report the first
    thing that does not fit. With `limit`, check at most that many events this time: the head is
    then checked on the run that reaches it, and the report says how many remain."""
    key = audit_key()
    seq, prev = 0, GENESIS_HASH
    mark = AuditWatermark.objects.filter(pk=1).first()
    since = mark if incremental and mark is not None and mark.seq else None
    if since is not None:
        if not is_signed(since.signature, "watermark", since.seq, since.hash, key=key):
            return _broken(0, since.seq, "the verified-up-to mark is not signed with the audit key")
        anchor = AuditEvent.objects.filter(seq=since.seq).values_list("hash", flat=True).first()
        if anchor != since.hash:
            return _broken(since.seq - 1, since.seq, "an event verified earlier is gone or changed")
        seq, prev = since.seq, since.hash
    stop_at = seq + limit if limit is not None else None
    seq, prev, problem = _walk(seq, prev, key, batch_size, stop_at)
    remaining = 0
    if problem is None and seq == stop_at:
        remaining = AuditEvent.objects.filter(seq__gt=seq).count()
    sealed, sealed_problem = _check_sealed(seq, key)
    problem = (
        problem
        or (None if remaining else _check_head(seq, prev, key, bool(sealed)))
        or _check_watermark(seq, key, mark)
        or sealed_problem
    )
    if problem:
        return problem
    return ChainReport(
        True,
        seq,
        last_hash=prev,
        sealed=sealed,
        verified_from=since.seq if since is not None else 0,
        marked=mark.seq if mark is not None else None,
        remaining=remaining,
    )


def audit_watermark_save(report: ChainReport) -> None:
    """Remember (signed) that the chain was intact up to report.count; never moves backwards."""
    if not report.intact or not report.count or (report.marked or 0) >= report.count:
        return
    fields = {
        "seq": report.count,
        "hash": report.last_hash,
        "at": timezone.now(),
        "signature": sign("watermark", report.count, report.last_hash),
    }
    if report.marked is None:
        AuditWatermark.objects.get_or_create(pk=1, defaults=fields)
    else:
        AuditWatermark.objects.filter(pk=1, seq__lt=report.count).update(**fields)


def audit_verify_current(*, limit: int = PER_LOAD) -> ChainReport:
    """The chain checked from the last verified event on, at most `limit` events at a time (cheap
    enough for every page load, even the first after an upgrade); the verified-up-to mark then
    moves to where the check ended."""
    report = audit_chain_verify(incremental=True, limit=limit)
    audit_watermark_save(report)
    return report
