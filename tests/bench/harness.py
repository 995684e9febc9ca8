"""What the runner benchmarks share: a sandbox process, a real qcluster and the sweeper loop, a
throw-away database (SQLite and the ORM broker, or BENCH_DATABASE_URL / BENCH_REDIS_URL), the cast,
and the sandbox's effect log."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(var: Path, port: int, workers: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PORTAL_TEST_DB"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{var / 'bench.sqlite3'}"),
        DEBUG="false",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="localhost",
        PORTAL_HTTPS="false",
        PORTAL_STATIC_MANIFEST="false",
        PORTAL_AUDIT_KEY="bench-audit-" + "a" * 30,
        PORTAL_ENCRYPTION_KEYS="dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
        PORTAL_SANDBOX="true",
        PORTAL_SANDBOX_URL=f"http://127.0.0.1:{port}",
        PORTAL_VAR_DIR=str(var),
        Q_WORKERS=workers,
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    return env


def backend(env: dict[str, str]) -> str:
    db = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    return f"{db} + {'Redis' if env.get('REDIS_URL') else 'ORM'} broker"


def start(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    argv = [sys.executable, *args] if args[0] == "-m" else [sys.executable, "manage.py", *args]
    out = open(log, "ab")  # noqa: SIM115 (lives with the process)
    return subprocess.Popen(  # noqa: S603 (our own code)
        argv, cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database a bench names if this machine does not have it yet."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django(env: dict[str, str]) -> None:
    if env["DATABASE_URL"].startswith("postgres"):
        ensure_database(env["DATABASE_URL"])
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    if env["DATABASE_URL"].startswith("postgres"):
        # An empty schema, not `flush`: flush also empties the rows the migrations made (the role
        # groups), which a second run on the same database then lacks.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("configure_sandbox_connections", verbosity=0)
    if env.get("REDIS_URL"):
        from django_q.brokers import get_broker

        get_broker().purge_queue()


@contextlib.contextmanager
def cluster(
    *, workers: str, users: int, sandbox_args: tuple[str, ...] = ()
) -> Iterator[tuple[dict[str, str], str, int]]:
    """Sandbox + Django set up here + qcluster + sweeper loop; yields (environment, sandbox URL,
    the qcluster's process id)."""
    var = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    port = free_port()
    env = environment(var, port, workers)
    sandbox = start(
        env,
        "-m",
        "connections.sandbox",
        *("--port", str(port), "--users", str(users), "--data-dir", str(var / "sandbox")),
        *sandbox_args,
        log=var / "sandbox.log",
    )
    base = f"http://127.0.0.1:{port}"
    _wait_up(base)
    _setup_django(env)
    procs = [
        start(env, "qcluster", log=var / "qcluster.log"),
        start(env, "run_sweeper", "--loop", "1", log=var / "sweeper.log"),
    ]
    try:
        time.sleep(4)  # the cluster's processes start
        yield env, base, procs[0].pid
    finally:
        for proc in (*procs, sandbox):
            stop(proc)


def _wait_up(base: str) -> None:
    for _ in range(100):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/_sandbox/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the sandbox did not start")


def effects(base: str, since: int = 0) -> tuple[list[dict], int]:
    """The sandbox's effect log (state-changing calls) after `since`, with times as epoch seconds."""
    body = httpx.get(f"{base}/_sandbox/effects", params={"since": since}, timeout=10).json()
    for e in body["effects"]:
        e["epoch"] = datetime.fromisoformat(e["time"]).timestamp()
    return body["effects"], body["last_seq"]


def cast(kinds: list[str]):
    """A helpdesk agent and an approver in one team, with a delegation for `kinds`."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from offboarding.models import Delegation

    users = get_user_model().objects
    team = Group.objects.create(name="Bench desk")
    approvers = Group.objects.get(name="Approver")
    agent = users.create_user("bench-agent", password="x" * 20)
    agent.groups.add(team, Group.objects.get(name="Helpdesk"))
    approver = users.create_user("bench-approver", password="x" * 20)
    approver.groups.add(team, approvers)
    Delegation.objects.create(
        name="bench", team=team, approver_group=approvers, allowed_actions=kinds
    )
    return agent, approver


def targets(count: int) -> list[dict]:
    """Active Okta users of the sandbox (id and profile)."""
    from connections import registry

    found: list[dict] = []
    after = None
    while len(found) < count:
        users, after = registry.okta_search_users(expression='status eq "ACTIVE"', after=after)
        found += users
        if not after:
            break
    return found[:count]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its children still alive (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in [pid, *_descendants(pid)]:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(  # noqa: S603, S607 (procps)
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    kids = [int(p) for p in out.stdout.split()]
    return kids + [g for k in kids for g in _descendants(k)]


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]
