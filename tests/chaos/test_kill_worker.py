"""Crash safety with a real qcluster on PostgreSQL against the sandbox, for both brokers: kill -9
the whole cluster while ~200 steps are running, restart it, and count steps lost and state-changing
calls duplicated.

Runs by default when DATABASE_URL is PostgreSQL (skipped on SQLite); the Redis case also needs
REDIS_URL. About a minute per broker:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/runner_int REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python -m pytest tests/chaos -q

The cluster, the sweeper, the sandbox and the checks are separate processes, as in production.
Subprocesses use `tests.chaos.chaos_settings` (15 s leases) against their own database,
`<test database name>_chaos` (or CHAOS_DATABASE_URL); the Redis case flushes the REDIS_URL
database (or CHAOS_REDIS_URL) first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

BASE_URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.skipif(
        not BASE_URL.startswith("postgres"),
        reason="the kill -9 test needs PostgreSQL (DATABASE_URL=postgres://...): on SQLite "
        "several workers cannot share the database safely",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PEOPLE = int(os.environ.get("CHAOS_PEOPLE", "16"))  # 13 offboard steps each: 16 → 208 steps
WORKERS = os.environ.get("CHAOS_WORKERS", "8")
LATENCY_MS = int(os.environ.get("CHAOS_LATENCY_MS", "250"))
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Calls the sandbox marks as applied every time, because the provider cannot tell either:
# a second "sign out everywhere" ends no extra session. A worker killed after sending one of
# these and before recording the result sends it again (at-least-once; nothing to probe).
# They are reported, not counted as duplicated state changes.
ALWAYS_APPLIED = ("/sessions", "/signOut", "/revokeSignInSessions")

SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from connections import registry
from offboarding import progress
from offboarding.models import ActionRequest, Delegation
from offboarding.playbooks import normalise_options
from offboarding.services import request_fingerprint, step_runs_create

user, _ = get_user_model().objects.get_or_create(username="chaos-requester")
team, _ = Group.objects.get_or_create(name="Chaos team")
user.groups.add(team, Group.objects.get(name="Helpdesk"))
Delegation.objects.get_or_create(
    name="chaos", team=team, approver_group=team, allowed_actions=["offboard"], approvals_needed=1
)
users, _ = registry.okta_search_users(query="", limit=%(people)d)
options = normalise_options("offboard", {"okta_deactivate": False})
systems = ["okta", "google", "msgraph", "zoom"]
ids = []
for u in users[:%(people)d]:
    with transaction.atomic():
        req = ActionRequest.objects.create(
            kind="offboard", state="approved", target_okta_id=u["id"],
            target_login=u["profile"]["login"], target_email=u["profile"].get("email", ""),
            target_profile=u["profile"], systems=systems, options=options, reason="chaos",
            requester=user, approvals_needed=1, approved_at=timezone.now(),
            fingerprint=request_fingerprint(
                kind="offboard", target_okta_id=u["id"], systems=systems, options=options
            ),
        )
        step_runs_create(req)
        ids.append(req.pk)
for pk in ids:
    progress.enqueue_start(pk)
print(json.dumps(ids))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chaos_db_url() -> str:
    if os.environ.get("CHAOS_DATABASE_URL"):
        return os.environ["CHAOS_DATABASE_URL"]
    parts = urlsplit(BASE_URL)
    name = parts.path.lstrip("/") or "portal"
    return urlunsplit(parts._replace(path=f"/{name}_chaos"))


def _maintenance(db_url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(db_url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql)


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _start(env: dict, *args: str, log: Path | None = None) -> subprocess.Popen:
    """`manage.py <args>` (or `python -m ...` when args start with -m) in its own process group."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    argv = [PYTHON, *args] if args[0] == "-m" else [PYTHON, "manage.py", *args]
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: kill -9 takes every worker with it
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _kill9(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory):
    """A fresh database, a sandbox process, and the four connections pointing at it."""
    db_url = _chaos_db_url()
    name = urlsplit(db_url).path.lstrip("/")
    _maintenance(db_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _maintenance(db_url, f'CREATE DATABASE "{name}"')
    var = tmp_path_factory.mktemp("chaos-var")
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "REDIS_URL", "PORTAL_TEST_DB"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.chaos.chaos_settings",
        DATABASE_URL=db_url,
        PORTAL_SANDBOX="true",
        PORTAL_SANDBOX_URL=f"http://127.0.0.1:{port}",
        PORTAL_VAR_DIR=str(var),
        DEBUG="true",
        PORTAL_HTTPS="false",
        Q_TIMEOUT="10",
        Q_RETRY="20",
        Q_WORKERS=WORKERS,
    )
    sandbox = _start(
        env,
        "-m",
        "connections.sandbox",  # no Django on the serving path
        "--port",
        str(port),
        "--users",
        "200",
        "--data-dir",
        str(var / "sandbox"),
        log=var / "sandbox.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/_sandbox/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert sandbox.poll() is None, (var / "sandbox.log").read_text()[-3000:]
                time.sleep(0.2)
        _manage(env, "migrate", "--no-input", "--skip-checks")
        _manage(env, "configure_sandbox_connections", "--skip-checks")
        yield {"env": env, "base": base, "db_url": db_url, "var": var}
    finally:
        _kill9(sandbox)


class Steps:
    """Step counts for a set of requests, read straight from the chaos database."""

    def __init__(self, db_url: str, request_ids: list[int]):
        import psycopg

        self.conn = psycopg.connect(db_url, autocommit=True)
        self.ids = request_ids

    def counts(self) -> dict:
        rows = self.conn.execute(
            "SELECT status, count(*) FROM offboarding_steprun "
            "WHERE action_request_id = ANY(%s) GROUP BY status",
            [self.ids],
        ).fetchall()
        by_status = {status: n for status, n in rows}
        terminal = sum(by_status.get(s, 0) for s in ("succeeded", "skipped", "failed", "cancelled"))
        return {"total": sum(by_status.values()), "terminal": terminal, "by_status": by_status}

    def request_states(self) -> dict:
        rows = self.conn.execute(
            "SELECT state, count(*) FROM offboarding_actionrequest WHERE id = ANY(%s) "
            "GROUP BY state",
            [self.ids],
        ).fetchall()
        return dict(rows)


def _duplicates(effects: list[dict]) -> tuple[dict, dict]:
    """(duplicated state changes, repeated always-applied calls), keyed by (system, method, path).

    The path names the person and the operation (and the group, for a group removal).
    """
    applied = Counter(
        (e["system"], e["method"], e["path"].split("?")[0])
        for e in effects
        if e["applied"] and e["method"] in MUTATING
    )
    repeated = {k: n for k, n in applied.items() if n > 1}
    resent = {k: n for k, n in repeated.items() if k[2].endswith(ALWAYS_APPLIED)}
    return {k: n for k, n in repeated.items() if k not in resent}, resent


def _wait(steps: Steps, until, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    counts = steps.counts()
    while time.monotonic() < deadline and not until(counts):
        time.sleep(0.25)
        counts = steps.counts()
    return counts


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_kill_9_mid_run_loses_no_step_and_duplicates_no_call(chaos, broker, capsys):
    env = dict(chaos["env"])
    if broker == "redis":
        redis_url = os.environ.get("CHAOS_REDIS_URL") or os.environ.get("REDIS_URL")
        if not redis_url:
            pytest.skip("set REDIS_URL (a Redis database the test may flush) for the Redis broker")
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        env["REDIS_URL"] = redis_url
    base, log = chaos["base"], chaos["var"] / f"cluster-{broker}.log"
    httpx.post(f"{base}/_sandbox/reset", timeout=10).raise_for_status()
    ids = json.loads(
        _manage(env, "shell", "-c", SETUP % {"people": PEOPLE}).strip().splitlines()[-1]
    )
    httpx.put(
        f"{base}/_sandbox/faults",
        json={"system": "all", "latency_ms": LATENCY_MS, "jitter_ms": LATENCY_MS // 2},
        timeout=5,
    ).raise_for_status()
    steps = Steps(chaos["db_url"], ids)
    started = time.monotonic()
    sweeper = _start(env, "run_sweeper", "--loop", "2", log=log)
    cluster = _start(env, "qcluster", log=log)
    try:
        # Kill when a good part is done and several steps are in the middle of their calls.
        before = _wait(
            steps,
            lambda c: c["terminal"] >= c["total"] * 0.25 and c["by_status"].get("running", 0) >= 4,
            90,
        )
        _kill9(cluster)
        at_kill = steps.counts()
        in_flight = at_kill["by_status"].get("running", 0)
        killed_after = time.monotonic() - started

        cluster = _start(env, "qcluster", log=log)
        after = _wait(steps, lambda c: c["terminal"] == c["total"], 120)
        duration = time.monotonic() - started
    finally:
        _kill9(cluster)
        _kill9(sweeper)
    effects = httpx.get(f"{base}/_sandbox/effects", timeout=10).json()["effects"]
    duplicated, resent = _duplicates(effects)
    lost = after["total"] - after["terminal"]
    figures = {
        "broker": broker,
        "steps": after["total"],
        "terminal_at_kill": at_kill["terminal"],
        "in_flight_at_kill": in_flight,
        "killed_after_s": round(killed_after, 1),
        "lost": lost,
        "duplicated_state_changes": sum(n - 1 for n in duplicated.values()),
        "resent_sign_outs": sum(n - 1 for n in resent.values()),
        "state_changing_effects": sum(1 for e in effects if e["applied"]),
        "duration_s": round(duration, 1),
        "final_steps": after["by_status"],
        "final_requests": steps.request_states(),
    }
    with capsys.disabled():
        print(f"\nkill -9 figures: {json.dumps(figures)}")
    assert after["total"] >= 200 or PEOPLE < 16
    assert before["by_status"].get("running", 0) >= 1, f"nothing was in flight: {before}"
    assert in_flight >= 1, at_kill
    assert lost == 0, after
    assert duplicated == {}, duplicated
    done = after["by_status"].get("succeeded", 0) + after["by_status"].get("skipped", 0)
    assert done > after["total"] // 2, after
