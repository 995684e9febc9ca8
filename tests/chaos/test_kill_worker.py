"""Crash safety with a real qcluster on PostgreSQL against the sandbox: kill -9 the cluster in the
middle of ~200 steps, restart it, and count steps lost and state-changing calls duplicated.

Opt-in (minutes long, needs PostgreSQL at CHAOS_DATABASE_URL or the default below):

    CHAOS=1 .venv/bin/python -m pytest tests/chaos -q -s

Each stage runs `manage.py` in a subprocess against a dedicated database (`chaos_runner`), so the
cluster, the sandbox and the checks are separate processes, as in production.
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

import httpx
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.skipif(
        os.environ.get("CHAOS") != "1", reason="set CHAOS=1 to run the kill -9 test"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DB_URL = os.environ.get("CHAOS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chaos_runner")
PEOPLE = int(os.environ.get("CHAOS_PEOPLE", "16"))  # 13 offboard steps each: 16 → 208 steps
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}

SETUP = """
import json
from django.contrib.auth import get_user_model
from django.db import transaction
from connections import registry
from offboarding import runner
from offboarding.models import ActionRequest
from offboarding.services.requests import _create_steps, request_fingerprint
from offboarding.playbooks import normalise_options
from django.utils import timezone

from django.contrib.auth.models import Group
from offboarding.models import Delegation
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
            fingerprint=request_fingerprint(kind="offboard", target_okta_id=u["id"], systems=systems, options=options),
        )
        _create_steps(req)
        ids.append(req.pk)
for pk in ids:
    runner.enqueue_start(pk)
print(json.dumps(ids))
"""

COUNT = """
import json
from offboarding.models import StepRun
terminal = StepRun.objects.filter(status__in=StepRun.TERMINAL).count()
print(json.dumps({"total": StepRun.objects.count(), "terminal": terminal,
                  "by_status": dict(__import__("collections").Counter(StepRun.objects.values_list("status", flat=True)))}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    port = free_port()
    var = tmp_path_factory.mktemp("chaos-var")
    environment = dict(os.environ)
    environment.update(
        DATABASE_URL=DB_URL,
        PORTAL_SANDBOX="true",
        PORTAL_SANDBOX_URL=f"http://127.0.0.1:{port}",
        PORTAL_VAR_DIR=str(var),
        DEBUG="true",
        PORTAL_HTTPS="false",
        Q_TIMEOUT="20",
        Q_RETRY="40",
        Q_WORKERS="4",
    )
    environment.pop("REDIS_URL", None)  # ORM broker: the at-least-once case
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", "DROP DATABASE IF EXISTS chaos_runner"],
        check=False,
    )
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", "CREATE DATABASE chaos_runner"],
        check=True,
    )
    return environment, port


def manage(env, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        **kwargs,
    )


def shell(env, code: str):
    return json.loads(manage(env, "shell", "-c", code).stdout.strip().splitlines()[-1])


def start(env, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_kill_9_mid_run_loses_no_step_and_duplicates_no_call(env):
    environment, port = env
    base = f"http://127.0.0.1:{port}"
    sandbox = start(
        environment,
        "sandbox",
        "--port",
        str(port),
        "--users",
        "200",
        "--data-dir",
        str(Path(environment["PORTAL_VAR_DIR"]) / "sandbox"),
    )
    cluster = None
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/_sandbox/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        manage(environment, "migrate", "--no-input")
        manage(environment, "configure_sandbox_connections")
        shell(environment, SETUP % {"people": PEOPLE})
        httpx.delete(f"{base}/_sandbox/effects", timeout=5)

        cluster = start(environment, "qcluster")
        total = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            counts = shell(environment, COUNT)
            total = counts["total"]
            if counts["terminal"] >= total * 0.3:
                break
            time.sleep(0.5)
        kill9(cluster)
        killed_at = shell(environment, COUNT)
        print("killed at", killed_at)

        cluster = start(environment, "qcluster")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            counts = shell(environment, COUNT)
            if counts["terminal"] == counts["total"]:
                break
            time.sleep(2)
        effects = httpx.get(f"{base}/_sandbox/effects", timeout=10).json()["effects"]
        applied = Counter(
            (e["system"], e["method"], e["path"])
            for e in effects
            if e["applied"] and e["method"] in MUTATING
        )
        duplicated = {k: n for k, n in applied.items() if n > 1}
        lost = counts["total"] - counts["terminal"]
        print(f"steps: {counts}; lost: {lost}; duplicated state-changing calls: {len(duplicated)}")
        assert total >= 200 or PEOPLE < 16
        assert (
            counts["by_status"].get("succeeded", 0) + counts["by_status"].get("skipped", 0)
            > total // 2
        )
        assert lost == 0, counts
        assert duplicated == {}, duplicated
    finally:
        if cluster is not None and cluster.poll() is None:
            kill9(cluster)
        kill9(sandbox)
