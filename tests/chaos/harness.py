"""Shared by the chaos tests: the processes (sandbox, cluster), the requests they run, and what is
counted afterwards (steps lost, state changes duplicated, time to recover)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

BASE_URL = os.environ.get("DATABASE_URL", "")
NEEDS_POSTGRES = pytest.mark.skipif(
    not BASE_URL.startswith("postgres"),
    reason="the chaos tests need PostgreSQL (DATABASE_URL=postgres://...): on SQLite "
    "several workers cannot share the database safely",
)
ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PEOPLE = int(os.environ.get("CHAOS_PEOPLE", "16"))  # 22 offboard steps each: 16 → 352 steps
WORKERS = os.environ.get("CHAOS_WORKERS", "8")
LATENCY_MS = int(os.environ.get("CHAOS_LATENCY_MS", "250"))
RECOVERY_GOAL_S = 30.0
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
TERMINAL = ("succeeded", "skipped", "failed", "cancelled")
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
# A run that failed leaves its requests open (one open request per action and person): end
# them, so each test starts clean and one failure does not cascade into the next.
ActionRequest.objects.filter(state__in=ActionRequest.OPEN_STATES).update(state="cancelled", state_note="chaos: left over by an earlier run")
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chaos_db_url() -> str:
    if os.environ.get("CHAOS_DATABASE_URL"):
        return os.environ["CHAOS_DATABASE_URL"]
    parts = urlsplit(BASE_URL)
    name = parts.path.lstrip("/") or "portal"
    return urlunsplit(parts._replace(path=f"/{name}_chaos"))


def maintenance(db_url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(db_url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql)


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def start(env: dict, *args: str, log: Path | None = None) -> subprocess.Popen:
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


def kill9(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def broker_env(chaos: dict, broker: str) -> dict:
    """The subprocess environment for one broker (the Redis database is flushed first)."""
    env = dict(chaos["env"])
    if broker == "redis":
        redis_url = os.environ.get("CHAOS_REDIS_URL") or os.environ.get("REDIS_URL")
        if not redis_url:
            pytest.skip("set REDIS_URL (a Redis database the test may flush) for the Redis broker")
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        env["REDIS_URL"] = redis_url
    return env


def set_latency(base: str, system: str, latency_ms: int) -> None:
    httpx.put(
        f"{base}/_sandbox/faults",
        json={"system": system, "latency_ms": latency_ms, "jitter_ms": latency_ms // 2},
        timeout=5,
    ).raise_for_status()


def submit(chaos: dict, env: dict, people: int = PEOPLE) -> list[int]:
    """Reset the sandbox, create `people` approved offboards, queue their starts."""
    base = chaos["base"]
    httpx.post(f"{base}/_sandbox/reset", timeout=10).raise_for_status()
    ids = json.loads(
        manage(env, "shell", "-c", SETUP % {"people": people}).strip().splitlines()[-1]
    )
    set_latency(base, "all", LATENCY_MS)
    return ids


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
        terminal = sum(by_status.get(s, 0) for s in TERMINAL)
        return {"total": sum(by_status.values()), "terminal": terminal, "by_status": by_status}

    def request_states(self) -> dict:
        rows = self.conn.execute(
            "SELECT state, count(*) FROM offboarding_actionrequest WHERE id = ANY(%s) "
            "GROUP BY state",
            [self.ids],
        ).fetchall()
        return dict(rows)

    def unfinished(self) -> list[dict]:
        """The steps not yet terminal, with what decides when they run (for failure messages)."""
        cur = self.conn.execute(
            "SELECT s.id, s.action_request_id, s.key, s.status, s.attempts, s.crash_count, "
            "s.enqueued_at, s.next_attempt_at, s.updated_at, s.waiting_for_slot, s.lease_owner, "
            "r.state AS request_state, now() AS at FROM offboarding_steprun s "
            "JOIN offboarding_actionrequest r ON r.id = s.action_request_id "
            "WHERE s.action_request_id = ANY(%s) AND s.status <> ALL(%s) ORDER BY s.id",
            [self.ids, list(TERMINAL)],
        )
        names = [c.name for c in cur.description]
        return [
            {
                k: (str(v) if v is not None and not isinstance(v, (int, bool, str)) else v)
                for k, v in zip(names, row, strict=True)
            }
            for row in cur.fetchall()
        ]

    def unstarted(self) -> list[int]:
        """The requests approved and not started yet."""
        rows = self.conn.execute(
            "SELECT id FROM offboarding_actionrequest WHERE id = ANY(%s) AND state = 'approved'",
            [self.ids],
        ).fetchall()
        return [pk for (pk,) in rows]

    def started(self, ids: list[int]) -> set[int]:
        """Of these requests, those that have started (or ended) since."""
        if not ids:
            return set()
        rows = self.conn.execute(
            "SELECT id FROM offboarding_actionrequest WHERE id = ANY(%s) AND state <> 'approved'",
            [ids],
        ).fetchall()
        return {pk for (pk,) in rows}

    def running(self, system: str | None = None) -> dict[int, tuple[str, int]]:
        """Running steps: id → (lease owner, attempts)."""
        rows = self.conn.execute(
            "SELECT id, lease_owner, attempts FROM offboarding_steprun WHERE status = 'running' "
            "AND action_request_id = ANY(%s) AND (%s::text IS NULL OR system = %s::text)",
            [self.ids, system, system],
        ).fetchall()
        return {pk: (owner, attempts) for pk, owner, attempts in rows}

    def resumed(self, held: dict[int, tuple[str, int]]) -> set[int]:
        """Of the steps in `held`, those another worker has claimed since, or that have ended."""
        rows = self.conn.execute(
            "SELECT id, status, attempts FROM offboarding_steprun WHERE id = ANY(%s)",
            [list(held)],
        ).fetchall()
        return {pk for pk, status, attempts in rows if status in TERMINAL or attempts > held[pk][1]}

    def stale_attempts(self, owner: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM offboarding_stepattempt WHERE stale AND lease_owner = %s",
            [owner],
        ).fetchone()[0]


def unfinished_report(steps: Steps, log: Path) -> str:
    """What a failed run left unfinished: the rows, and the cluster log's lines about them."""
    rows = steps.unfinished()
    ids = {f"step {r['id']}" for r in rows} | {f"step_id={r['id']}" for r in rows}
    lines = []
    if log.exists():
        lines = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if any(i in line for i in ids) or "Traceback" in line or "ERROR" in line
        ]
    return json.dumps(rows, indent=1) + "\n" + "\n".join(lines[-60:])


def worker_pid(owner: str) -> int:
    """The process that holds a lease (owners are `<host>.<pid>.<random>`)."""
    return int(owner.split(".")[1])


def recovery_times(steps: Steps, held: dict, since: float, seconds: float = 90) -> dict[int, float]:
    """Seconds from `since` until each step in `held` was resumed (claimed anew, or ended)."""
    return resumption_times(steps, held, [], since, seconds)[0]


def resumption_times(
    steps: Steps, held: dict, unstarted: list[int], since: float, seconds: float = 90
) -> tuple[dict[int, float], dict[int, float]]:
    """Seconds from `since` until each step in `held` was resumed (claimed anew, or ended), and
    until each request in `unstarted` (approved, not yet started) started."""
    times: dict[int, float] = {}
    starts: dict[int, float] = {}
    deadline = time.monotonic() + seconds
    while (len(times) < len(held) or len(starts) < len(unstarted)) and time.monotonic() < deadline:
        at = round(time.monotonic() - since, 1)
        for pk in steps.resumed(held) - set(times):
            times[pk] = at
        for pk in steps.started(unstarted) - set(starts):
            starts[pk] = at
        time.sleep(0.2)
    return times, starts


def duplicates(effects: list[dict]) -> tuple[dict, dict]:
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


def effects(base: str) -> list[dict]:
    return httpx.get(f"{base}/_sandbox/effects", timeout=10).json()["effects"]


def wait(steps: Steps, until: Callable[[dict], bool], seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    counts = steps.counts()
    while time.monotonic() < deadline and not until(counts):
        time.sleep(0.25)
        counts = steps.counts()
    return counts
