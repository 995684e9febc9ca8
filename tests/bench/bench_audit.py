"""Audit appends per second with 1 and 4 writer processes on PostgreSQL, the old design (every append
under the chain head's row lock until commit) measured as the baseline in the same run; then
verify_audit's speed: the full walk in events/s and the incremental check after new events.

Needs BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_audit (the database is created if
missing; its audit tables are emptied, so its name must contain "bench"). Runs in a fresh process. Knobs: BENCH_AUDIT_SECONDS (2 per figure),
BENCH_AUDIT_ROUNDS (3: old, general and new alternate, the median is printed, so both designs meet the same
machine load), BENCH_VERIFY_EVENTS (100,000; the issue's figure is over 1,000,000).
Run: `.venv/bin/python -m tests.bench bench_audit`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.bench import harness

SECONDS = float(os.environ.get("BENCH_AUDIT_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "3"))
VERIFY_EVENTS = int(os.environ.get("BENCH_VERIFY_EVENTS", "100000"))
APPEND_GOAL = 1000  # events/s with 4 writers
VERIFY_GOAL = 100_000  # events/s, or incremental


def _environment(url: str) -> None:
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 48)
    os.environ.setdefault("PORTAL_AUDIT_KEY", "bench-audit-key-" + "y" * 32)
    os.environ.setdefault("PORTAL_HTTPS", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ["PORTAL_AUDIT_CHECKPOINT_SINK"] = ""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _empty() -> None:
    from django.db import connection

    from offboarding.models import AuditChainHead, AuditEvent, AuditWatermark

    with connection.cursor() as cursor:
        for model in (AuditEvent, AuditChainHead, AuditWatermark):
            cursor.execute(f"TRUNCATE {model._meta.db_table}")  # noqa: S608
    AuditChainHead.objects.create(pk=1)


def _legacy_append(n: int) -> None:
    """The design before issue 10: lock the head row, chain, insert, move the head, commit."""
    from django.db import transaction
    from django.utils import timezone

    from offboarding.audit import compute_hash
    from offboarding.models import AuditChainHead, AuditEvent

    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor_label="bench",
            action="user_search",
            details={"query": f"q{n}"},
            prev_hash=head.hash or "0" * 64,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)


def _append(n: int) -> None:
    from offboarding.audit import audit_record

    audit_record(action="user_search", actor_label="bench", details={"query": f"q{n}"})


def _general_append(n: int) -> None:
    """The append as it was before its two-round-trip path: the general path (Django's atomic,
    five round trips), which appends made inside a caller's transaction still take."""
    from offboarding.audit import chain

    alone = chain._append_alone
    chain._append_alone = lambda *args: False  # type: ignore[assignment]
    try:
        _append(n)
    finally:
        chain._append_alone = alone


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (0 when the server is not local)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _writer(design: str, start_at: float, stop_at: float, counts) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    append = {"old": _legacy_append, "general": _general_append}.get(design, _append)
    backend = _backend_cpu()
    time.sleep(max(0.0, start_at - time.time()))
    n, began = 0, time.process_time()
    while time.time() < stop_at:
        append(n)
        n += 1
    cpu = time.process_time() - began + _backend_cpu() - backend
    connection.close()
    counts.put((n, cpu))


def _appends_per_second(design: str, writers: int) -> tuple[float, float]:
    """Events per second over the run, and CPU milliseconds per event (writer + its backend)."""
    from django.db import connection

    from offboarding.audit import audit_chain_link

    _empty()
    connection.close()
    ctx = multiprocessing.get_context("fork")
    counts = ctx.Queue()
    start_at = time.time() + 0.5
    stop_at = start_at + SECONDS
    procs = [
        ctx.Process(target=_writer, args=(design, start_at, stop_at, counts))
        for _ in range(writers)
    ]
    for proc in procs:
        proc.start()
    results = [counts.get() for _ in procs]
    for proc in procs:
        proc.join()
    audit_chain_link()  # nothing should be left, but a verdict must cover everything
    total = sum(n for n, _ in results)
    return total / SECONDS, 1000 * sum(cpu for _, cpu in results) / max(total, 1)


def _check_chain() -> str:
    from offboarding.audit import audit_chain_verify

    return str(audit_chain_verify())


def _seed_chain(count: int) -> None:
    """A valid signed chain of `count` events, written with COPY (hashes computed here)."""
    from django.conf import settings
    from django.db import connection

    from offboarding.audit.signing import payload_bytes, sign
    from offboarding.models import AuditChainHead, AuditEvent

    _empty()
    key = settings.PORTAL_AUDIT_KEY.encode()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = "0" * 64
    cols = (
        "seq, at, actor_label, action, object_type, object_id, target, ip, details, prev_hash, hash"
    )
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {AuditEvent._meta.db_table} ({cols}) FROM STDIN") as copy:  # noqa: S608
            for seq in range(1, count + 1):
                at = start + timedelta(seconds=seq)
                details = {"query": f"person{seq % 997}"}
                target = f"person{seq % 997}@acme.example"
                body = (seq, at, None, "bench", "user_search", "", "", target, "", details, prev)
                digest = hmac.new(key, payload_bytes(*body), hashlib.sha256).hexdigest()
                copy.write_row(
                    (
                        seq,
                        at,
                        "bench",
                        "user_search",
                        "",
                        "",
                        target,
                        "",
                        json.dumps(details),
                        prev,
                        digest,
                    )
                )
                prev = digest
    AuditChainHead.objects.filter(pk=1).update(
        seq=count, hash=prev, signature=sign("head", count, prev)
    )


def _verify_figures() -> None:
    from offboarding.audit import audit_chain_verify, audit_record, audit_verify_current

    _seed_chain(VERIFY_EVENTS)
    began = time.perf_counter()
    report = audit_chain_verify()
    full = time.perf_counter() - began
    rate = report.count / full
    print(
        f"verify_audit (full), {report.count:,} events: {full:.2f} s = {rate:,.0f} events/s "
        f"(goal ≥ {VERIFY_GOAL:,}/s: {rate / VERIFY_GOAL:.2f}×) · {report}"
    )
    while audit_verify_current().remaining:  # the mark to the end (PER_LOAD events per call)
        pass
    for n in range(1000):
        audit_record(action="user_search", actor_label="bench", details={"query": f"new{n}"})
    began = time.perf_counter()
    report = audit_verify_current()
    inc = time.perf_counter() - began
    print(
        f"verify (incremental, the audit page on each load), 1,000 new events after "
        f"{VERIFY_EVENTS:,}: {inc * 1000:.0f} ms · {report}"
    )
    began = time.perf_counter()
    audit_verify_current()
    print(f"verify (incremental), nothing new: {(time.perf_counter() - began) * 1000:.1f} ms")


def main() -> None:
    """Run in a fresh process: Django is configured once per process, and differently here."""
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgres"):
        print(
            "bench_audit: set BENCH_DATABASE_URL=postgres://... (appends are measured on PostgreSQL)"
        )
        return
    if "bench" not in url.rsplit("/", 1)[1]:
        # It empties the audit tables: never let it near a real portal's database.
        print(
            "bench_audit: the database's name must contain 'bench' (its audit tables are emptied)"
        )
        return
    root = Path(__file__).resolve().parents[2]
    subprocess.run(  # noqa: S603 (our own module)
        [sys.executable, "-m", "tests.bench.bench_audit", "--run"], cwd=root, check=True
    )


def run() -> None:
    url = os.environ["BENCH_DATABASE_URL"]
    _environment(url)
    harness.ensure_database(url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    print(
        f"audit appends, median of {ROUNDS} rounds of {SECONDS:g} s, old and new alternating, "
        f"writer processes on {os.cpu_count()} CPUs"
    )
    runs: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for _ in range(ROUNDS):
        for writers in (1, 4):
            for design in ("old", "general", "new"):
                runs.setdefault((design, writers), []).append(_appends_per_second(design, writers))
    verdict = _check_chain()  # the last run was the new design's
    figures = {k: statistics.median(r for r, _ in v) for k, v in runs.items()}
    order = {"old": 0, "general": 1, "new": 2}
    for (design, writers), rate in sorted(
        figures.items(), key=lambda kv: (kv[0][1], order[kv[0][0]])
    ):
        goal = f" (goal ≥ {APPEND_GOAL:,}/s: {rate / APPEND_GOAL:.2f}×)" if writers == 4 else ""
        spread = ", ".join(f"{r:,.0f}" for r, _ in runs[design, writers])
        cpu = statistics.median(c for _, c in runs[design, writers])
        label = {
            "old": "old design (head row lock through commit)",
            "general": "new design, general path (5 round trips, as before the 2-trip path)",
        }.get(design, "new design (appends outside a transaction: 2 round trips)")
        print(
            f"  {label}, {writers} writer{'s' * (writers > 1)}: {rate:,.0f} events/s{goal} "
            f"[{spread}]; CPU {cpu:.2f} ms/event (writer + backend)"
        )
    print(
        f"  new vs general path: 1 writer {figures['new', 1] / figures['general', 1]:.2f}×, "
        f"4 writers {figures['new', 4] / figures['general', 4]:.2f}×"
    )
    print(
        f"  new vs old: 1 writer {figures['new', 1] / figures['old', 1]:.2f}×, "
        f"4 writers {figures['new', 4] / figures['old', 4]:.2f}×; "
        f"new, 4 writers vs 1: {figures['new', 4] / figures['new', 1]:.2f}× · last run: {verdict}"
    )
    _verify_figures()


if __name__ == "__main__":
    if "--run" in sys.argv:
        run()
    else:
        main()
