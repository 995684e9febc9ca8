"""Time to lockout: from a second person's approval to every system done, with real workers.

A sandbox process (with API latency like the real services'), a real `qcluster` and the sweeper
loop, the default SQLite database (or BENCH_DATABASE_URL). Requests go through the same services
as the pages: a helpdesk agent submits, an approver approves. Prints the median and p95 time from
approval to the last step finished (all four systems), per system, and the throughput of a burst.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SINGLE = int(os.environ.get("BENCH_SINGLE", "10"))
BURST = int(os.environ.get("BENCH_BURST", "40"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "150"))
WORKERS = os.environ.get("BENCH_WORKERS", "4")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(var: Path, port: int) -> dict[str, str]:
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
        Q_WORKERS=WORKERS,
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    return env


def _start(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    argv = [sys.executable, *args] if args[0] == "-m" else [sys.executable, "manage.py", *args]
    out = open(log, "ab")  # noqa: SIM115 (lives with the process)
    return subprocess.Popen(  # noqa: S603 (our own code)
        argv, cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("configure_sandbox_connections", verbosity=0)


def _cast():
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
        name="bench", team=team, approver_group=approvers, allowed_actions=["reset_sessions"]
    )
    return agent, approver


def _targets(count: int) -> list[str]:
    from connections import registry

    found, after = [], None
    while len(found) < count:
        users, after = registry.okta_search_users(expression='status eq "ACTIVE"', after=after)
        found += [u["id"] for u in users]
        if not after:
            break
    return found[:count]


def _submit(agent, okta_ids: list[str]) -> list[int]:
    """A helpdesk agent asks to reset sessions everywhere (live scope checks included)."""
    from offboarding.services import action_request_submit

    return [
        action_request_submit(
            requester=agent,
            target_okta_id=okta_id,
            kind="reset_sessions",
            systems=["okta", "google", "zoom", "msgraph"],
            reason="benchmark",
        ).pk
        for okta_id in okta_ids
    ]


def _approve(approver, ids: list[int]) -> dict[int, float]:
    """Another person approves each; returns request id → monotonic time of the click (the
    approval re-checks scope against live Okta first, and that time counts too)."""
    from offboarding.services import action_request_approve

    clicked_at = {}
    for pk in ids:
        clicked_at[pk] = time.monotonic()
        action_request_approve(action_request_id=pk, approver=approver)
    return clicked_at


def _wait_done(ids: list[int], timeout: float = 300) -> dict[int, float]:
    """Poll until every request ends; returns request id → monotonic time it was seen finished."""
    from offboarding.models import ActionRequest

    done: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(ids) and time.monotonic() < deadline:
        finished = ActionRequest.objects.filter(
            pk__in=[i for i in ids if i not in done], finished_at__isnull=False
        ).values_list("pk", flat=True)
        now = time.monotonic()
        done.update({pk: now for pk in finished})
        time.sleep(0.05)
    return done


def _per_system(ids: list[int]) -> dict[str, list[float]]:
    from offboarding.models import ActionRequest

    spans: dict[str, list[float]] = {}
    for req in ActionRequest.objects.filter(pk__in=ids).prefetch_related("steps"):
        for step in req.steps.all():
            spans.setdefault(step.system, []).append(
                (step.finished_at - req.approved_at).total_seconds()
            )
    return spans


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def _report(single: list[float], systems: dict[str, list[float]], burst: tuple) -> None:
    print(f"sandbox latency {LATENCY_MS} ms per call, {WORKERS} workers, sweeper every 1 s")
    print(f"{'one request at a time':<40} {'median':>9} {'p95':>9}")
    print(
        f"{'approver clicks -> all four systems done':<40} "
        f"{statistics.median(single):>8.2f}s {_p95(single):>8.2f}s  (n={len(single)})"
    )
    for system, spans in sorted(systems.items()):
        label = f"  {system} done (from approval recorded)"
        print(f"{label:<40} {statistics.median(spans):>8.2f}s {_p95(spans):>8.2f}s")
    count, steps, seconds, lost = burst
    print(
        f"burst: {count} requests ({steps} steps) approved at once, all done in {seconds:.1f}s "
        f"= {steps / seconds:.1f} steps/s; not finished: {lost}"
    )


def run() -> None:
    var = Path(tempfile.mkdtemp(prefix="bench-lockout-"))
    port = _free_port()
    env = _environment(var, port)
    sandbox = _start(
        env,
        "-m",
        "connections.sandbox",
        "--port",
        str(port),
        "--users",
        "500",
        "--data-dir",
        str(var / "sandbox"),
        "--latency-ms",
        str(LATENCY_MS),
        log=var / "sandbox.log",
    )
    time.sleep(1.5)
    _setup_django(env)
    workers = [
        _start(env, "qcluster", log=var / "qcluster.log"),
        _start(env, "run_sweeper", "--loop", "1", log=var / "sweeper.log"),
    ]
    try:
        time.sleep(4)  # the cluster's processes start
        agent, approver = _cast()
        targets = _targets(SINGLE + BURST)
        single, single_ids = [], []
        for okta_id in targets[:SINGLE]:
            ids = _submit(agent, [okta_id])
            approved = _approve(approver, ids)
            done = _wait_done(ids)
            single += [done[pk] - approved[pk] for pk in ids if pk in done]
            single_ids += ids
        systems = _per_system(single_ids)
        ids = _submit(agent, targets[SINGLE:])
        start = time.monotonic()
        _approve(approver, ids)
        done = _wait_done(ids)
        seconds = max(done.values(), default=time.monotonic()) - start
        burst = (len(ids), 4 * len(ids), seconds, len(ids) - len(done))
        _report(single, systems, burst)
    finally:
        for proc in (*workers, sandbox):
            _stop(proc)


def main() -> None:
    """Run in a fresh process: Django is configured once per process, and differently here."""
    subprocess.run(  # noqa: S603 (our own module)
        [sys.executable, "-m", "tests.bench.bench_lockout", "--run"], cwd=ROOT, check=True
    )


if __name__ == "__main__":
    if "--run" in sys.argv:
        run()
    else:
        main()
