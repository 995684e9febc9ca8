"""The REST API's create-request latency: POST /api/v1/requests, median and p95, in-process.

The portal runs through Django's test Client on a scratch SQLite database (`BENCH_DATABASE_URL` for
another); the four systems are the in-process sandbox, reached over real HTTP on loopback (every
create reads Okta and each system's account for the plan). Each create names another person, as an
HR system's feed would. Baseline in the same run: the same submit service called directly (no HTTP,
no token, no JSON), so the ratio is what the API layer adds. Rounds: `BENCH_API_ROUNDS` (150).
Run: `.venv/bin/python -m tests.bench bench_api`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench import harness

ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "150"))
GOAL_P95_MS = 250.0
GOAL_RATIO = 1.5


def _environment(var: Path) -> None:
    env = harness.environment(var, 0, workers="1")
    env["ALLOWED_HOSTS"] = "testserver,localhost"
    env["PORTAL_API_RATE_LIMIT_PER_MINUTE"] = "100000"
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)


def _connect_all(server) -> None:
    from connections import services
    from connections.management.commands.configure_sandbox_connections import sandbox_connections

    for system, spec in sandbox_connections(server.base_url, server.app.credentials).items():
        result = services.connection_save(
            system=system,
            actor=None,
            label=f"{system} (sandbox)",
            settings=spec["settings"],
            secret=spec["secret"],
        )
        services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)


def _policy():
    from django.contrib.auth.models import Group, User

    from offboarding import services
    from offboarding.models import Delegation
    from offboarding.roles import Role

    team = Group.objects.create(name="HR feed")
    Delegation.objects.create(
        name="HR feed → everyone",
        team=team,
        allowed_actions=["offboard", "reset_sessions"],
        approver_group=Group.objects.create(name="IT approvers"),
    )
    agent = User.objects.create_user(username="bench-agent")
    agent.groups.set([team, Group.objects.get_or_create(name=Role.HELPDESK)[0]])
    _, raw = services.api_token_create(
        actor=None, name="bench", team=team, scopes="requests:create,people:read"
    )
    return agent, raw


def _stats(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), harness.p95(samples)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        _environment(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from connections.sandbox.server import SandboxConfig, start_in_thread
        from offboarding import services

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)  # the rate limit counts in the cache
        server = start_in_thread(
            SandboxConfig(port=0, users=3 * ROUNDS + 60, seed=3, data_dir=Path(tmp) / "sandbox")
        )
        try:
            os.environ["PORTAL_SANDBOX_URL"] = server.base_url
            _connect_all(server)
            agent, raw = _policy()
            people = harness.targets(2 * ROUNDS + 2)
            if len(people) < 2 * ROUNDS + 2:
                raise RuntimeError(f"the sandbox has only {len(people)} active people")
            client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
            body = {"kind": "offboard", "systems": ["okta", "google", "msgraph", "zoom"]}
            api, direct = [], []
            for i in range(ROUNDS + 1):
                login = people[2 * i]["profile"]["login"]
                started = time.perf_counter()
                answer = client.post(
                    "/api/v1/requests",
                    {**body, "person": login, "reason": "Left (bench)"},
                    content_type="application/json",
                )
                api.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 201:
                    raise RuntimeError(f"create answered {answer.status_code}: {answer.content!r}")
                started = time.perf_counter()
                services.action_request_submit(
                    requester=agent,
                    target_okta_id=people[2 * i + 1]["profile"]["login"],
                    kind="offboard",
                    systems=body["systems"],
                    reason="Left (bench)",
                )
                direct.append((time.perf_counter() - started) * 1000)
            api, direct = api[1:], direct[1:]  # the first of each warms up
        finally:
            server.stop()
        (a_med, a_p95), (d_med, d_p95) = _stats(api), _stats(direct)
        print(f"creates: {ROUNDS} through the API, {ROUNDS} through the service (baseline)")
        print("| figure | median | p95 | goal |")
        print("|---|---|---|---|")
        print(
            f"| API create (POST /api/v1/requests) | {a_med:.1f} ms | {a_p95:.1f} ms "
            f"| p95 ≤ {GOAL_P95_MS:.0f} ms |"
        )
        print(f"| baseline: submit service, same run | {d_med:.1f} ms | {d_p95:.1f} ms | — |")
        print(
            f"| ratio API / baseline | {a_med / d_med:.2f}× | {a_p95 / d_p95:.2f}× "
            f"| ≤ {GOAL_RATIO:.1f}× |"
        )
