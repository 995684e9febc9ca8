"""History and audit pages, and exports, at scale on PostgreSQL: p95 per page, export rows/s.

Builds its own data in a scratch database (`BENCH_PG_URL`, default the `pages` database on
127.0.0.1), server-side with `INSERT … SELECT generate_series` (no rows cross the wire, faster than
COPY): `BENCH_PG_REQUESTS` requests (4 steps each) and `BENCH_PG_EVENTS` audit events. The defaults
(20,000 / 200,000) take a minute; the issue's size is `BENCH_PG_REQUESTS=100000
BENCH_PG_EVENTS=1000000`. Audit hashes are random hex: the pages never verify the chain.
Run: `.venv/bin/python -m tests.bench bench_pages_pg`.
"""

from __future__ import annotations

import os
import statistics
import time
from functools import partial
from urllib.parse import urlsplit, urlunsplit

REQUESTS = int(os.environ.get("BENCH_PG_REQUESTS", "20000"))
EVENTS = int(os.environ.get("BENCH_PG_EVENTS", "200000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/pages")
# BENCH_PG_REUSE=1 keeps the data of the last run (same sizes); BENCH_PG_ONLY=word runs the pages
# and exports whose name holds the word.
REUSE = os.environ.get("BENCH_PG_REUSE", "") == "1"
ONLY = os.environ.get("BENCH_PG_ONLY", "")
PAGE_GOAL_MS = 300.0
EXPORT_GOAL = 50_000.0
STAFF = 40  # helpdesk agents; plus 8 approvers and 2 auditors


def _fresh_database() -> None:
    import psycopg

    parts = urlsplit(URL)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _environment() -> None:
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 48)
    os.environ.setdefault("PORTAL_AUDIT_KEY", "bench-audit-key-" + "y" * 32)
    os.environ.setdefault("PORTAL_ENCRYPTION_KEYS", "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=")
    os.environ.setdefault("PORTAL_HTTPS", "false")
    os.environ.setdefault("PORTAL_STATIC_MANIFEST", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ["PORTAL_SANDBOX"] = "true"
    os.environ["DATABASE_URL"] = URL
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _users() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from offboarding.roles import Role

    model = get_user_model()
    cast = {}
    for prefix, role, count in (
        ("helpdesk", Role.HELPDESK, STAFF),
        ("approver", Role.APPROVER, 8),
        ("auditor", Role.AUDITOR, 2),
    ):
        group = Group.objects.get_or_create(name=role)[0]
        for n in range(count):
            user = model.objects.create(username=f"{prefix}-{n:02d}")
            user.groups.set([group])
            cast.setdefault(prefix, user)
    return cast


_REQUESTS_SQL = """
INSERT INTO offboarding_actionrequest (
    kind, state, state_note, target_okta_id, target_login, target_name, target_email,
    target_status, target_profile, systems, options, reason, ticket, plan, requester_id,
    approvals_needed, fingerprint, created_at, updated_at, requested_at, approved_at, finished_at)
SELECT (ARRAY['offboard','offboard','reset_sessions'])[1 + i %% 3],
       (ARRAY['succeeded','succeeded','succeeded','partially_failed','failed','cancelled',
              'rejected','expired','pending_approval','running'])[1 + (i * 7) %% 10],
       '', '00ubench' || i, 'person' || i || '@acme.example', 'Person ' || i,
       'person' || i || '@acme.example', 'ACTIVE',
       jsonb_build_object('firstName', 'Person', 'lastName', i::text, 'department', 'Sales'),
       '["okta","google","msgraph","zoom"]'::jsonb, '{}'::jsonb, 'Left the company', '',
       '[]'::jsonb, (SELECT min(id) FROM auth_user WHERE username LIKE 'helpdesk-%%') + i %% %(staff)s,
       1, repeat('f', 64), t, t, t, t + interval '5 minutes', t + interval '9 minutes'
FROM (SELECT i, now() - (%(n)s - i) * interval '37 seconds' AS t
      FROM generate_series(1, %(n)s) AS i) AS s
"""

_STEPS_SQL = """
INSERT INTO offboarding_steprun (
    action_request_id, key, position, system, operation, label, options, depends_on, after_all,
    status, outcome, detail, last_error, attempts, crash_count, probe_first, waiting_for_slot,
    cancel_reason, lease_owner, finished_at, updated_at)
SELECT r.id, s.system || '.' || s.op, s.pos, s.system, s.op, '', '{}'::jsonb, '[]'::jsonb, false,
       'succeeded', 'done', '', '', 1, 0, false, false, '', '', r.finished_at, r.finished_at
FROM offboarding_actionrequest r
CROSS JOIN (VALUES ('okta', 'suspend', 0), ('google', 'suspend', 1), ('msgraph', 'disable', 2),
                   ('zoom', 'deactivate', 3)) AS s(system, op, pos)
"""

# Actors: 6 in 10 events by one of the helpdesk agents, 2 by the system, 1 approver, 1 auditor.
_EVENTS_SQL = """
INSERT INTO offboarding_auditevent (
    seq, at, actor_id, actor_label, action, object_type, object_id, target, ip, details,
    prev_hash, hash)
SELECT i, now() - (%(n)s - i) * interval '1.3 seconds', u.id, coalesce(u.username, ''),
       (ARRAY['user_search','user_view','user_search','step_outcome','step_outcome',
              'request_submitted','request_approved','request_started','request_finished',
              'sign_in'])[1 + i %% 10],
       'action_request', (i %% %(r)s)::text, 'person' || ((i * 7919) %% %(r)s) || '@acme.example',
       '10.0.' || (i %% 250) || '.' || (i %% 7), jsonb_build_object('n', i, 'query', 'per' || i %% 97),
       md5(i::text) || md5((i + 1)::text), md5((i + 1)::text) || md5(i::text)
FROM generate_series(1::bigint, %(n)s) AS i
LEFT JOIN auth_user u ON u.username = CASE
    WHEN i %% 10 < 6 THEN 'helpdesk-' || lpad(((i / 10) %% %(staff)s)::text, 2, '0')
    WHEN i %% 10 = 8 THEN 'approver-' || lpad(((i / 10) %% 8)::text, 2, '0')
    WHEN i %% 10 = 9 THEN 'auditor-0' || ((i / 10) %% 2)
END
"""


def _seed() -> None:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(_REQUESTS_SQL, {"n": REQUESTS, "staff": STAFF})
        cursor.execute(_STEPS_SQL)
        cursor.execute(_EVENTS_SQL, {"n": EVENTS, "r": REQUESTS, "staff": STAFF})
        cursor.execute("UPDATE offboarding_auditchainhead SET seq = %s", [EVENTS])
        cursor.execute("ANALYZE")
    took = time.perf_counter() - started
    print(
        f"seeded {REQUESTS:,} requests, {REQUESTS * 4:,} steps, {EVENTS:,} audit events "
        f"in {took:.1f} s",
        flush=True,
    )


def _time(client, url: str) -> list[float]:
    response = client.get(url)  # warm up
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _export(client, url: str) -> tuple[int, float, float]:
    """(data lines, rows/s, peak RSS growth in MiB) for one full export."""
    before = peak = _rss_mib()
    started = time.perf_counter()
    response = client.get(url)
    lines = 0
    for n, chunk in enumerate(response.streaming_content):
        lines += chunk.count(b"\n")
        if n % 64 == 0:
            peak = max(peak, _rss_mib())
    took = time.perf_counter() - started
    rows = lines - (1 if "csv" in url else 0)
    return rows, rows / took, peak - before


def _cases(cast: dict) -> list[tuple[str, str, str]]:
    from django.urls import reverse

    from offboarding.models import ActionRequest, AuditEvent
    from offboarding.views.history import encode_cursor

    history, audit = reverse("offboarding:request-list"), reverse("offboarding:audit")
    deep = ActionRequest.objects.order_by("-requested_at", "-id")[REQUESTS * 9 // 10]
    month = "since=2000-01-01&until=2999-01-01"
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[EVENTS * 9 // 10]
    someone = f"person{REQUESTS // 3}@"
    return [
        ("history, first page (auditor, all)", "auditor", history),
        (
            "history, deep page (90% down)",
            "auditor",
            history + "?older=" + encode_cursor(deep.requested_at, deep.pk),
        ),
        ("history, state filter", "auditor", history + "?state=failed"),
        ("history, action filter", "auditor", history + "?kind=reset_sessions"),
        ("history, system filter", "auditor", history + "?system=zoom"),
        ("history, requester filter", "auditor", history + "?requester=helpdesk-07"),
        ("history, person filter (one person)", "auditor", history + f"?target={someone}"),
        ("history, person filter (common prefix)", "auditor", history + "?target=person1"),
        ("history, date filter", "auditor", history + "?" + month),
        (
            "history, system + person + dates",
            "auditor",
            history + f"?system=zoom&target=person1&{month}",
        ),
        ("history, helpdesk (own requests)", "helpdesk", history),
        ("audit, first page", "auditor", audit),
        ("audit, deep page (90% down)", "auditor", audit + f"?older={seq}"),
        ("audit, action filter (rare)", "auditor", audit + "?action=sign_in"),
        ("audit, action filter (absent)", "auditor", audit + "?action=export"),
        ("audit, actor filter (one agent)", "auditor", audit + "?actor=helpdesk-07"),
        ("audit, actor filter (no match)", "auditor", audit + "?actor=nobody"),
        ("audit, person filter (one person)", "auditor", audit + f"?target={someone}"),
        ("audit, date filter", "auditor", audit + "?" + month),
        (
            "audit, actor + person + action",
            "auditor",
            audit + "?actor=helpdesk&target=person1&action=user_view",
        ),
    ]


BASELINE_ROUNDS = int(os.environ.get("BENCH_PG_BASELINE_ROUNDS", "3"))
BASELINE_ROWS = int(os.environ.get("BENCH_PG_BASELINE_ROWS", "100000"))


def _median_ms(run, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _page(make, fields: tuple[str, ...], base) -> None:
    from offboarding import keyset

    keyset.keyset_page(make(), fields=fields, size=100, base=base)


def _baselines(cast: dict) -> list[str]:
    """The same reads, in the same run, the way they were made before: the planner alone (no
    window) for filtered pages, and Python formatting for exports."""
    from django.db import connection

    from offboarding import exports, selectors
    from offboarding.models import AuditEvent

    rows = ["| Read (no template) | planner alone, same indexes | windowed | ratio |"]
    rows.append("|---|---|---|---|")
    user = cast["auditor"]
    pages = [
        ("audit, actor filter (no match)", lambda: selectors.audit_event_list(actor="nobody")),
        (
            "audit, person filter (one person)",
            lambda: selectors.audit_event_list(target=f"person{REQUESTS // 3}@"),
        ),
        (
            "audit, actor + person + action",
            lambda: selectors.audit_event_list(
                actor="helpdesk", target="person1", action="user_view"
            ),
        ),
        (
            "history, person filter (common prefix)",
            lambda: selectors.action_request_history(user=user, target="person1"),
        ),
    ]
    for name, make in pages:
        audit = name.startswith("audit")
        fields = ("seq",) if audit else ("requested_at", "id")
        base = AuditEvent.objects.all() if audit else selectors.action_request_history(user=user)
        plain = partial(_page, make, fields, None)
        windowed = partial(_page, make, fields, base)
        before = _median_ms(plain, BASELINE_ROUNDS)
        after = _median_ms(windowed, BASELINE_ROUNDS * 3)
        rows.append(f"| {name} | {before:.1f} ms | {after:.1f} ms | {after / before:.2f} |")
        print(rows[-1], flush=True)
    newest = selectors.audit_event_list().values_list("seq", flat=True).first() or 0
    part = selectors.audit_event_list().filter(seq__gt=newest - BASELINE_ROWS)
    for fmt, lines in (("csv", exports.csv_lines), ("jsonl", exports.jsonl_lines)):

        def run(lines=lines):
            for _ in lines(part, exports.EVENT_COLUMNS):
                pass

        after = _median_ms(run, 1)
        vendor = connection.vendor
        connection.vendor = "python"  # the Python formatting path, as on SQLite
        try:
            before = _median_ms(run, 1)
        finally:
            connection.vendor = vendor
        rate = BASELINE_ROWS * 1000
        rows.append(
            f"| audit {fmt} export, {BASELINE_ROWS:,} rows | {rate / before:,.0f} rows/s (Python) "
            f"| {rate / after:,.0f} rows/s | {before / after:.1f}× faster |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    import psycopg

    try:
        if not REUSE:
            _fresh_database()
    except psycopg.OperationalError as exc:
        print(f"skipped: no PostgreSQL at {URL} ({exc})")
        return
    _environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    if REUSE:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects
        cast = {n: users.get(username=f"{n}-00") for n in ("helpdesk", "approver", "auditor")}
    else:
        cast = _users()
        _seed()
    clients = {}
    for name, user in cast.items():
        clients[name] = Client()
        clients[name].force_login(user)
    print(f"PostgreSQL, {REQUESTS:,} requests, {EVENTS:,} audit events, {ROUNDS} rounds per page")
    rows = ["| Page | Median | p95 | goal |", "|---|---|---|---|"]
    for name, who, url in _cases(cast):
        if ONLY not in name:
            continue
        samples = _time(clients[who], url)
        p95 = _p95(samples)
        verdict = "ok" if p95 < PAGE_GOAL_MS else "MISSED"
        rows.append(
            f"| {name} | {statistics.median(samples):.1f} ms | {p95:.1f} ms | "
            f"< {PAGE_GOAL_MS:.0f} ms {verdict} |"
        )
        print(rows[-1], flush=True)
    rows += ["", "| Export | Rows | Rows/s | RSS growth | goal |", "|---|---|---|---|---|"]
    for what, name in (("audit-export", "audit"), ("request-export", "history")):
        for fmt in ("csv", "jsonl"):
            if ONLY not in f"{name} {fmt}":
                continue
            url = reverse(f"offboarding:{what}", kwargs={"fmt": fmt})
            count, rate, grew = _export(clients["auditor"], url)
            verdict = "ok" if rate >= EXPORT_GOAL else "MISSED"
            rows.append(
                f"| {name} {fmt} | {count:,} | {rate:,.0f} | {grew:.0f} MiB | "
                f"≥ {EXPORT_GOAL:,.0f} rows/s {verdict} |"
            )
            print(rows[-1], flush=True)
    if not ONLY:
        rows += ["", *_baselines(cast)]
    print("\n".join(rows))
