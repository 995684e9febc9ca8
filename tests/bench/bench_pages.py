"""Server time of the search, request status and history pages: median and p95, in-process.

Django's test Client against a throw-away file SQLite database (or BENCH_DATABASE_URL), seeded with
2,000 requests with their steps and 20,000 audit events; search goes to the in-process sandbox
(500 people) through a real Okta connection. Run: `.venv/bin/python -m tests.bench bench_pages`.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
SANDBOX_USERS = 500


def _environment(tmp: Path) -> None:
    """A production-like configuration (DEBUG off, cached templates) on a scratch database."""
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 48)
    os.environ.setdefault("PORTAL_AUDIT_KEY", "bench-audit-key-" + "y" * 32)
    os.environ.setdefault("PORTAL_ENCRYPTION_KEYS", "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=")
    os.environ.setdefault("PORTAL_HTTPS", "false")
    os.environ.setdefault("PORTAL_STATIC_MANIFEST", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ["PORTAL_SANDBOX"] = "true"
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _users() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from offboarding.roles import Role

    model = get_user_model()
    cast = {}
    for name, role in (
        ("helpdesk", Role.HELPDESK),
        ("approver", Role.APPROVER),
        ("auditor", Role.AUDITOR),
    ):
        user, _ = model.objects.get_or_create(username=f"bench-{name}")
        user.groups.set([Group.objects.get_or_create(name=role)[0]])
        cast[name] = user
    return cast


def _seed(cast: dict) -> None:
    from django.db import transaction
    from django.utils import timezone

    from offboarding.audit import audit_record
    from offboarding.models import ActionRequest, AuditEvent, StepRun

    rng = random.Random(6)
    now = timezone.now()
    states = [s for s, _ in ActionRequest.State.choices]
    locks = {"okta": "suspend", "google": "suspend", "msgraph": "disable", "zoom": "deactivate"}
    reqs = []
    for i in range(REQUESTS):
        at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        reqs.append(
            ActionRequest(
                kind=rng.choice(["offboard", "offboard", "reset_sessions"]),
                state=rng.choice(states),
                target_okta_id=f"00ubench{i}",
                target_login=f"person{i}@acme.example",
                target_name=f"Person {i}",
                target_email=f"person{i}@acme.example",
                systems=list(locks),
                reason="Benchmark",
                requester=cast["helpdesk"] if i % 2 else cast["approver"],
                fingerprint="f" * 64,
                requested_at=at,
                approved_at=at + timedelta(minutes=rng.randint(1, 120)),
            )
        )
    reqs = ActionRequest.objects.bulk_create(reqs, batch_size=500)
    steps = []
    for req in reqs:
        for pos, (system, op) in enumerate(locks.items()):
            for extra, name in enumerate((op, "revoke_sessions")):
                steps.append(
                    StepRun(
                        action_request=req,
                        key=f"{system}.{name}",
                        position=pos * 2 + extra,
                        system=system,
                        operation=name,
                        status=rng.choice(["succeeded", "succeeded", "failed", "ready"]),
                        attempts=1,
                        finished_at=req.approved_at + timedelta(seconds=rng.randint(5, 900)),
                    )
                )
    StepRun.objects.bulk_create(steps, batch_size=1000)
    actions = [
        AuditEvent.Action.USER_VIEW,
        AuditEvent.Action.USER_SEARCH,
        AuditEvent.Action.STEP_OUTCOME,
    ]
    with transaction.atomic():
        for i in range(EVENTS):
            audit_record(
                action=actions[i % 3],
                actor=cast["helpdesk"],
                target=f"person{i % REQUESTS}@acme.example",
                details={"n": i},
            )
    print(f"seeded {len(reqs)} requests, {len(steps)} steps, {EVENTS} audit events", flush=True)


def _connect_okta(server) -> None:
    from connections import services
    from connections.management.commands.configure_sandbox_connections import sandbox_connections
    from connections.types import System

    spec = sandbox_connections(server.base_url, server.app.credentials)[System.OKTA]
    result = services.connection_save(
        system=System.OKTA,
        actor=None,
        label="Okta (sandbox)",
        settings=spec["settings"],
        secret=spec["secret"],
    )
    services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)


def _time(client, url: str, rounds: int) -> list[float]:
    response = client.get(url)  # warm up (connections, template cache, tokens)
    if response.status_code not in (200, 286):  # 286: htmx "stop polling"
        raise RuntimeError(f"{url} answered {response.status_code}")
    if "search" in url and b"alice" not in response.content.lower():
        raise RuntimeError("the search found no one: is the sandbox connection working?")
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 286), url
    return samples


def _row(name: str, samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=20)[-1]
    return f"| {name} | {len(samples)} | {statistics.median(samples):.1f} ms | {p95:.1f} ms |"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        _environment(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        from connections.sandbox.server import SandboxConfig, start_in_thread
        from offboarding.models import ActionRequest
        from offboarding.views.history import encode_cursor

        call_command("migrate", verbosity=0)
        cast = _users()
        started = time.perf_counter()
        _seed(cast)
        print(f"seeding took {time.perf_counter() - started:.1f} s", flush=True)
        server = start_in_thread(
            SandboxConfig(port=0, users=SANDBOX_USERS, seed=1, data_dir=Path(tmp) / "sandbox")
        )
        try:
            _connect_okta(server)
            clients = {}
            for name, user in cast.items():
                clients[name] = Client()
                clients[name].force_login(user)
            detail = ActionRequest.objects.filter(state="running").order_by("-requested_at").first()
            tenth = ActionRequest.objects.order_by("-requested_at", "-id")[REQUESTS // 4]
            cases: list[tuple[str, str, str]] = [
                (
                    "search results (type-ahead, `q=ali`)",
                    "helpdesk",
                    reverse("offboarding:search-results") + "?q=ali&typeahead=1",
                ),
                ("search page (`q=ali`)", "helpdesk", reverse("offboarding:search") + "?q=ali"),
                (
                    "request status (detail, 8 steps)",
                    "auditor",
                    reverse("offboarding:request-detail", args=[detail.pk]),
                ),
                (
                    "request status (live fragment)",
                    "auditor",
                    reverse("offboarding:request-live", args=[detail.pk]),
                ),
                (
                    "history, first page (auditor, all)",
                    "auditor",
                    reverse("offboarding:request-list"),
                ),
                (
                    "history, deep page (keyset cursor)",
                    "auditor",
                    reverse("offboarding:request-list")
                    + f"?older={encode_cursor(tenth.requested_at, tenth.pk)}",
                ),
                (
                    "history, filtered (system + target + dates)",
                    "auditor",
                    reverse("offboarding:request-list")
                    + "?system=zoom&target=person1&since=2000-01-01",
                ),
                ("history, helpdesk (own only)", "helpdesk", reverse("offboarding:request-list")),
                ("audit, first page", "auditor", reverse("offboarding:audit")),
                ("dashboard (auditor)", "auditor", "/"),
            ]
            rows = ["| Page | Requests | Median | p95 |", "|---|---|---|---|"]
            for name, who, url in cases:
                try:
                    rows.append(_row(name, _time(clients[who], url, ROUNDS)))
                except Exception as exc:  # noqa: BLE001 (a page missing from this checkout)
                    rows.append(f"| {name} | — | not measured: {exc} | |")
                print(rows[-1], flush=True)
        finally:
            server.stop()
        print("\n".join(rows))
