"""Bulk preview: the time to judge a 10,000-row file, and the Okta calls it takes.

A sandbox process (`--users 12000`, `BENCH_PREVIEW_USERS`) plays Okta; the portal runs in-process
on a scratch SQLite database (`BENCH_DATABASE_URL` for another). Measured in the same run:

- the preview of BENCH_PREVIEW_ROWS (10,000) rows as the product does it (a paged read of
  everyone, 200 a page), split into the Okta read and the rest (verdicts, rows written);
- the same people looked up with search expressions, 25 per call (the method for small files),
  on a 1,000-row file;
- the baseline: one `GET /users/{login}` per row (what a per-person lookup costs), timed on
  BENCH_PREVIEW_BASELINE (500) rows and scaled to the file's size.

- approving that batch (the web request), then the release task's runs that create one request
  per found row with its steps, 1,000 a run.

Goal: the 10,000-row preview under 30 s with under 100 Okta calls; the approval under 2 s; each
release run under 45 s (half the task timeout).
Run: `.venv/bin/python -m tests.bench bench_bulk_preview`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import harness

USERS = int(os.environ.get("BENCH_PREVIEW_USERS", "12000"))
ROWS = int(os.environ.get("BENCH_PREVIEW_ROWS", "10000"))
BASELINE = int(os.environ.get("BENCH_PREVIEW_BASELINE", "500"))
GOAL_SECONDS = 30.0
GOAL_CALLS = 100
GOAL_APPROVE = 2.0
GOAL_RUN = 45.0


def _environment(var: Path, port: int) -> None:
    """The benches' environment (tests/bench/harness.py), in this process, with no Redis."""
    env = harness.environment(var, port, workers="1")
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)


def _sandbox(var: Path, port: int) -> subprocess.Popen:
    argv = [sys.executable, "-m", "connections.sandbox", "--port", str(port)]
    argv += ["--users", str(USERS), "--data-dir", str(var / "sandbox")]
    log = open(var / "sandbox.log", "ab")  # noqa: SIM115 (lives with the process)
    proc = subprocess.Popen(argv, cwd=harness.ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the sandbox did not start")


def _cast():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from offboarding.models import Delegation
    from offboarding.roles import Role

    agent = get_user_model().objects.create_user("bench-agent", password="x" * 20)
    agent.groups.add(Group.objects.get_or_create(name=Role.HELPDESK)[0])
    team, managers = Group.objects.create(name="Desk"), Group.objects.create(name="Managers")
    agent.groups.add(team)
    boss = get_user_model().objects.create_user("bench-approver", password="x" * 20)
    boss.groups.add(Group.objects.get_or_create(name=Role.APPROVER)[0], managers)
    Delegation.objects.create(
        name="Desk → everyone",
        team=team,
        allowed_actions=["offboard"],
        target_group_ids=[],
        approver_group=managers,
        approvals_needed=1,
        expiry_hours=24,
    )
    return agent, boss


def _logins(n: int) -> list[str]:
    from connections import registry

    logins: list[str] = []
    after = None
    while len(logins) < n:
        page, after = registry.okta_search_users(
            expression="profile.login pr", after=after, limit=200
        )
        logins += [u["profile"]["login"] for u in page]
        if not after:
            break
    return logins[:n]


def _preview(agent, logins: list[str]) -> tuple[float, object]:
    from offboarding.services import bulk

    started = time.perf_counter()
    batch = bulk.batch_preview(
        requester=agent,
        choice=bulk.BulkChoice(kind="offboard", systems=["okta"], reason="bench"),
        data=("login\n" + "\n".join(logins)).encode(),
    )
    return time.perf_counter() - started, batch


def _approve(agent, boss, batch) -> tuple[float, list[float], int]:
    """Submit, approve as another person (the web request), then the release task's runs that
    create the requests, their steps and approvals (1,000 requests a run)."""
    from offboarding.models import StepRun
    from offboarding.services import bulk, bulk_decide

    bulk.batch_submit(batch_id=batch.pk, actor=agent)
    started = time.perf_counter()
    bulk_decide.batch_approve(batch_id=batch.pk, approver=boss, fingerprint=batch.fingerprint)
    approve_s = time.perf_counter() - started
    runs: list[float] = []
    remaining = 1
    while remaining:
        started = time.perf_counter()
        remaining = bulk_decide.batch_release(batch_id=batch.pk)
        runs.append(time.perf_counter() - started)
    steps = StepRun.objects.filter(action_request__batch=batch).count()
    return approve_s, runs, steps


def _per_person(logins: list[str]) -> float:
    from connections import registry

    started = time.perf_counter()
    for login in logins:
        registry.okta_get_user(login)
    return time.perf_counter() - started


def _run(agent, boss) -> list[str]:
    from django.conf import settings

    logins = _logins(ROWS)
    seconds, batch = _preview(agent, logins)
    calls, okta_s = batch.lookup["okta_calls"], batch.lookup["seconds"]
    approve_s, runs, steps = _approve(agent, boss, batch)
    settings.OFFBOARDING_BULK_SEARCH_MAX_ROWS = 1000
    search_s, search_batch = _preview(agent, logins[:1000])
    base_s = _per_person(logins[:BASELINE]) * len(logins) / BASELINE
    ok = seconds < GOAL_SECONDS and calls < GOAL_CALLS
    return [
        "| Figure | Value | Goal |",
        "|---|---|---|",
        f"| preview of {len(logins):,} rows ({batch.lookup['method']}) | {seconds:.1f} s "
        f"(Okta read {okta_s:.1f} s, the rest {seconds - okta_s:.1f} s) | < {GOAL_SECONDS:.0f} s "
        f"{'ok' if ok else 'MISSED'} |",
        f"| Okta calls for it | {calls} | < {GOAL_CALLS} |",
        f"| approving it (the web request) | {approve_s:.2f} s | < {GOAL_APPROVE:.0f} s "
        f"{'ok' if approve_s < GOAL_APPROVE else 'MISSED'} |",
        f"| the release task: {batch.counts['valid']:,} requests and {steps:,} steps in "
        f"{len(runs)} runs | {sum(runs):.1f} s, longest run {max(runs):.1f} s | each run < "
        f"{GOAL_RUN:.0f} s (the task timeout is 90 s) {'ok' if max(runs) < GOAL_RUN else 'MISSED'} |",
        f"| rows judged found | {batch.counts['valid']:,} of {batch.counts['total']:,} | |",
        f"| 1,000 rows by search expressions (25 a call) | {search_s:.1f} s, "
        f"{search_batch.lookup['okta_calls']} calls | |",
        f"| baseline: one getUser per row, {BASELINE} timed, scaled to {len(logins):,} | "
        f"{base_s:.1f} s, {len(logins):,} calls | |",
        f"| baseline / preview | {base_s / seconds:.1f}× slower, {len(logins) / calls:.0f}× "
        "the calls | |",
    ]


def main() -> None:
    var = Path(tempfile.mkdtemp(prefix="bench-bulk-preview-"))
    port = harness.free_port()
    _environment(var, port)
    sandbox = _sandbox(var, port)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        call_command("configure_sandbox_connections", verbosity=0)
        print(f"sandbox with {USERS:,} people; {ROWS:,} rows", flush=True)
        print("\n".join(_run(*_cast())))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=15)
