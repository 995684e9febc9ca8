"""Signed checkpoints: (sequence, hash, time, HMAC) sent out of the database, and checked against it.

The sweeper sends one when PORTAL_AUDIT_CHECKPOINT_EVERY events were added or
PORTAL_AUDIT_CHECKPOINT_MINUTES passed since the last one (and events were added), never inside a
request. Sinks are append-only from the portal's side: a file (opened O_APPEND), syslog, or an HTTPS
endpoint such as a SIEM (through the outbound URL policy). `verify_audit --checkpoints FILE` holds
the database against them: a truncated or wiped trail cannot match a checkpoint it no longer reaches.
"""

from __future__ import annotations

import json
import logging
import os
import syslog
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils import timezone

from connections.types import System
from connections.url_policy import check_url
from offboarding.audit.chain import audit_chain_link
from offboarding.audit.signing import audit_key, sign, signed
from offboarding.models import AuditChainHead, AuditCheckpoint, AuditEvent

log = logging.getLogger(__name__)

# Tests replace this with an httpx.MockTransport; None means a real connection.
https_transport: httpx.BaseTransport | None = None
HTTPS_TIMEOUT = 10.0


class CheckpointError(Exception):
    """A checkpoint could not be sent; the next sweep tries again."""


def checkpoint_line(*, seq: int, hash_: str, at: datetime, signature: str) -> str:
    record = {"seq": seq, "hash": hash_, "at": at.isoformat(), "hmac": signature}
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def _send_file(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _send_syslog(line: str) -> None:
    syslog.openlog("portal-audit-checkpoint", syslog.LOG_PID, syslog.LOG_AUTH)
    syslog.syslog(syslog.LOG_NOTICE, line)


def _send_https(url: str, line: str) -> None:
    # The SIEM's host is allowed by configuration; every other rule of the policy applies (https
    # on 443, no IP literal, no private or loopback address). `system` only names a host list that
    # extra_hosts replaces here.
    host = (urlsplit(url).hostname or "").lower()
    checked = check_url(url, system=System.OKTA, extra_hosts=(host,))
    with httpx.Client(transport=https_transport, timeout=HTTPS_TIMEOUT) as client:
        response = client.post(checked, content=line, headers={"Content-Type": "application/json"})
    if response.status_code >= 300:
        raise CheckpointError(f"the checkpoint sink answered HTTP {response.status_code}")


def checkpoint_send(sink: str, line: str) -> None:
    """Append one line to the sink; CheckpointError (or the URL policy's refusal) when it fails."""
    try:
        if sink == "syslog":
            _send_syslog(line)
        elif sink.startswith("file:"):
            _send_file(sink.removeprefix("file:"), line)
        elif sink.startswith("https://"):
            _send_https(sink, line)
        else:
            raise CheckpointError(f"unknown checkpoint sink {sink!r}")
    except (OSError, httpx.HTTPError) as exc:
        raise CheckpointError(f"the checkpoint sink failed: {exc.__class__.__name__}") from exc


def _due(head_seq: int, last: AuditCheckpoint | None, now: datetime) -> bool:
    if last is None:
        return head_seq > 0
    if head_seq <= last.seq:
        return False
    every = settings.PORTAL_AUDIT_CHECKPOINT_EVERY
    minutes = timedelta(minutes=settings.PORTAL_AUDIT_CHECKPOINT_MINUTES)
    return head_seq - last.seq >= every or now - last.at >= minutes


def audit_checkpoint_last() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(sent_at__isnull=False).order_by("-at", "-pk").first()


def audit_checkpoint_write(
    *, now: datetime | None = None, force: bool = False
) -> AuditCheckpoint | None:
    """Send a checkpoint of the signed chain head when one is due (or `force`); None when not.

    A copy is kept in AuditCheckpoint with the send's result; failures are logged and retried by
    the next sweep. A head whose signature does not verify is never checkpointed."""
    sink = settings.PORTAL_AUDIT_CHECKPOINT_SINK
    if not sink:
        return None
    now = now or timezone.now()
    audit_chain_link()
    key = audit_key()
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or not head.seq:
        return None
    if not signed(head.signature, "head", head.seq, head.hash, key=key):
        log.error("audit chain head is not signed with the audit key: no checkpoint sent")
        return None
    if not force and not _due(head.seq, audit_checkpoint_last(), now):
        return None
    signature = sign("checkpoint", head.seq, head.hash, now.isoformat(), key=key)
    # Saved (a synchronous commit) before sending: the linking it reports is then on disk too.
    checkpoint = AuditCheckpoint.objects.create(
        seq=head.seq, hash=head.hash, at=now, signature=signature, sink=sink[:300]
    )
    line = checkpoint_line(seq=head.seq, hash_=head.hash, at=now, signature=signature)
    try:
        checkpoint_send(sink, line)
        checkpoint.sent_at = timezone.now()
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried next sweep
        checkpoint.error = str(exc)[:500]
        log.error("audit checkpoint #%s not sent: %s", head.seq, checkpoint.error)
    checkpoint.save(update_fields=["sent_at", "error"])
    return checkpoint


@dataclass(frozen=True)
class CheckpointReport:
    intact: bool
    checked: int
    latest_seq: int = 0
    latest_at: str = ""
    problem: str = ""

    def __str__(self) -> str:
        if not self.intact:
            return f"checkpoints disagree: {self.problem}"
        return f"checkpoints agree: {self.checked} checked, the latest #{self.latest_seq} at {self.latest_at}"


def _parse(lines: Iterable[str], key: bytes) -> tuple[list[dict], str]:
    """Signed checkpoint records from a sink's lines (syslog prefixes are skipped)."""
    records = []
    for number, raw in enumerate(lines, start=1):
        start = raw.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(raw[start:])
            seq, hash_, at = int(record["seq"]), str(record["hash"]), str(record["at"])
            ok = signed(str(record["hmac"]), "checkpoint", seq, hash_, at, key=key)
        except (ValueError, KeyError, TypeError):
            return [], f"line {number} is not a checkpoint record"
        if not ok:
            return [], f"line {number} is not signed with the audit key (forged, or another key)"
        records.append({"seq": seq, "hash": hash_, "at": at})
    return records, ""


def audit_checkpoints_verify(lines: Iterable[str]) -> CheckpointReport:
    """Hold the database's chain against signed checkpoints: each must still be there, unchanged."""
    records, problem = _parse(lines, audit_key())
    if problem:
        return CheckpointReport(False, 0, problem=problem)
    if not records:
        return CheckpointReport(False, 0, problem="no checkpoint records found")
    hashes = dict(
        AuditEvent.objects.filter(seq__in={r["seq"] for r in records}).values_list("seq", "hash")
    )
    count = AuditEvent.objects.filter(seq__isnull=False).count()
    for record in records:
        seq, at = record["seq"], record["at"]
        if seq not in hashes:
            if count == 0:
                problem = f"the trail was wiped: the checkpoint of {at} recorded {seq} events, the database holds none"
            else:
                problem = f"the trail was truncated: the checkpoint of {at} recorded {seq} events, the database holds {count}"
            return CheckpointReport(False, len(records), problem=problem)
        if hashes[seq] != record["hash"]:
            problem = f"event #{seq} is not the one the checkpoint of {at} recorded"
            return CheckpointReport(False, len(records), problem=problem)
    latest = max(records, key=lambda r: r["seq"])
    return CheckpointReport(True, len(records), latest["seq"], latest["at"])
