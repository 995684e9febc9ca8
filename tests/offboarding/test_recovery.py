"""Recovery in seconds: leases renewed while a call runs, the cluster's start-up sweep, the drain on
SIGTERM, and what /healthz reads (worker heartbeats, the queue's age)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from offboarding import tasks
from offboarding.apps import check_runner_timeouts
from offboarding.models import ActionRequest, StepRun
from offboarding.runner import chain, cluster, heartbeat, lease, shutdown
from portal import health

S = StepRun.Status
RS = ActionRequest.State


def _wait_for(condition, seconds: float = 10.0) -> bool:
    """Poll until `condition()` holds (bounded); the assertion is on the state, not the time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# --- Leases ---------------------------------------------------------------------------------------


def test_a_lease_owner_names_its_host_and_process_and_fits_the_column():
    owner = lease.new_lease_owner()
    assert owner.startswith(lease.owner_prefix(os.getpid()))
    assert len(owner) <= StepRun._meta.get_field("lease_owner").max_length
    assert owner != lease.new_lease_owner()


@pytest.mark.django_db
def test_a_lease_is_renewed_only_by_its_holder_while_the_step_runs(approved, queue, steps):
    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    step = steps(req)["okta.clear_sessions"]
    claimed = runner_claim(step.pk, "holder")
    later = claimed.lease_expires_at + timedelta(seconds=3)
    with time_machine.travel(later):
        assert lease.lease_renew(step_id=step.pk, owner="somebody-else") is False
        assert lease.lease_renew(step_id=step.pk, owner="holder") is True
    step.refresh_from_db()
    assert step.lease_expires_at > later
    with time_machine.travel(step.lease_expires_at + timedelta(seconds=1)):
        assert queue.sweep().lost_leases == 1
    assert lease.lease_renew(step_id=step.pk, owner="holder") is False, "taken back: fenced"


def runner_claim(step_id: int, owner: str) -> StepRun:
    from offboarding import runner

    claimed = runner.step_run_claim(step_id=step_id, owner=owner)
    assert claimed is not None
    return claimed


@pytest.mark.django_db(transaction=True)
def test_a_call_that_outlives_its_lease_keeps_it_while_the_worker_lives(
    approved, queue, steps, fake_registry, settings, monkeypatch
):
    """The heartbeat renews the lease during the call, so the sweeper does not take the step."""
    settings.OFFBOARDING_LEASE_SECONDS = 1
    settings.OFFBOARDING_HEARTBEAT_SECONDS = 0.05
    req = approved("reset_sessions", systems=["okta"])
    seen: dict[str, object] = {}
    real = fake_registry.run_operation

    def slow_call(system, operation, **kwargs):
        if operation != "clear_sessions":  # the read-back after it runs at its own pace
            return real(system, operation, **kwargs)
        first = StepRun.objects.get(action_request=req, key="okta.clear_sessions").lease_expires_at
        # The call goes on past the first lease's end; a sweep then leaves the step alone.
        seen["outlived"] = _wait_for(lambda: timezone.now() > first + timedelta(seconds=0.5))
        seen["report"] = queue.sweep()
        return real(system, operation, **kwargs)

    # Patched before the start: the start task runs the first steps itself (runner.chain).
    monkeypatch.setattr("connections.registry.run_operation", slow_call)
    queue.run_starts()
    queue.drain()
    step = steps(req)["okta.clear_sessions"]
    assert seen["outlived"] is True
    assert seen["report"].lost_leases == 0
    step.refresh_from_db()
    assert step.status == S.SUCCEEDED and step.crash_count == 0


@pytest.mark.django_db
def test_the_lease_keeper_stops_when_the_call_ends(settings):
    settings.OFFBOARDING_HEARTBEAT_SECONDS = 0.01
    before = {t.name for t in threading.enumerate()}
    with lease.keep_lease(step_id=0, owner="nobody"):
        assert "lease-0" in {t.name for t in threading.enumerate()}
    assert {t.name for t in threading.enumerate()} <= before | {"lease-0"}
    assert _wait_for(lambda: "lease-0" not in {t.name for t in threading.enumerate()})


@pytest.mark.django_db
def test_killed_workers_leases_expire_at_once_and_nobody_elses(approved, queue, steps):
    req = approved("offboard", systems=["okta", "zoom"])
    queue.run_starts()
    ready = [s for s in steps(req).values() if s.status == S.READY]
    dead = runner_claim(ready[0].pk, lease.owner_prefix(4242) + "a")
    alive = runner_claim(ready[1].pk, lease.owner_prefix(42) + "b")
    assert lease.leases_expire_now(prefixes=[lease.owner_prefix(4242)]) == 1
    report = queue.sweep()
    assert report.lost_leases == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == S.RETRYING and dead.probe_first
    assert alive.status == S.RUNNING


# --- Start-up sweep, drain ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_starting_cluster_requeues_ready_steps_at_once(approved, queue, steps):
    """A cluster killed before this one may have taken their tasks with it (Redis: gone)."""
    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    queue.sent.clear()
    assert queue.sweep().requeued == 0, "the ordinary sweep waits OFFBOARDING_REQUEUE_AFTER"
    assert queue.sweep(requeue_after=0).requeued == 1
    queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


@pytest.mark.django_db
def test_a_starting_cluster_starts_approved_requests_at_once(approved_to_start, queue):
    """A killed cluster's start tasks are gone (the ORM broker hands them out again only after
    Q_RETRY): the sweep a cluster makes when it starts does not wait OFFBOARDING_REQUEUE_AFTER."""
    req = approved_to_start("reset_sessions")
    queue.sent.clear()
    assert queue.sweep().started == 0, "a periodic pass leaves a fresh start task to the broker"
    assert queue.sweep(requeue_after=0).started == 1
    queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


@pytest.fixture
def drain_flag(monkeypatch):
    monkeypatch.setattr(shutdown, "_flag", None)
    return shutdown.install_drain_flag()


@pytest.mark.django_db
def test_a_draining_worker_hands_its_tasks_back_unstarted(
    approved_to_start, queue, steps, fake_registry, drain_flag
):
    req = approved_to_start("reset_sessions", systems=["okta"])
    drain_flag.set()
    assert tasks.start_request(req.pk) == "released: shutting down"
    req.refresh_from_db()
    assert req.state == RS.APPROVED
    drain_flag.clear()
    queue.run_starts()
    step = steps(req)["okta.clear_sessions"]
    queue.sent.clear()
    drain_flag.set()
    assert tasks.run_step(step.pk) == "released: shutting down"
    assert tasks.sweep() == "skipped: shutting down"
    assert queue.sent == [("offboarding.tasks.run_step", (step.pk,))]
    step.refresh_from_db()
    assert step.status == S.READY and step.attempts == 0
    assert fake_registry.calls == []
    drain_flag.clear()
    queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED


@pytest.mark.django_db
def test_a_draining_worker_runs_no_more_of_a_chain(
    approved, queue, steps, fake_registry, drain_flag
):
    req = approved("offboard", systems=["zoom"])
    queue.run_starts()
    revoke = steps(req)["zoom.revoke_token"]
    StepRun.objects.filter(pk=revoke.pk).update(status=S.READY)
    queue.sent.clear()
    drain_flag.set()
    assert chain._follow(revoke.pk) == "released: shutting down"
    assert queue.sent == [("offboarding.tasks.run_step", (revoke.pk,))]
    revoke.refresh_from_db()
    assert revoke.status == S.READY and revoke.attempts == 0
    assert fake_registry.calls == []


def test_descendants_finds_the_whole_process_tree():
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        assert _wait_for(lambda: len(cluster.descendants(parent.pid)) == 1)
        tree = cluster.descendants(parent.pid)
        assert {parent.pid, *tree} <= set(cluster.descendants(os.getpid()))
    finally:
        for pid in cluster.descendants(parent.pid):
            os.kill(pid, 9)
        parent.kill()
        parent.wait()


def _fork_calls(monkeypatch, on_fork) -> None:
    """The cluster's sentinel is not forked: `on_fork()` is called where it would be, and the
    sentinel reports itself started and alive."""

    class Forked:
        def __init__(self, *, target, name, args):
            self.start_event = args[1]

        def start(self) -> None:
            on_fork()
            self.start_event.set()

        def is_alive(self) -> bool:
            return True

    class Context:
        Process = Forked

    monkeypatch.setattr(cluster, "get_mp_context", Context)


def test_a_restarting_cluster_forks_only_once_its_resuming_threads_have_ended(
    monkeypatch, settings
):
    """A step taken back from a dead worker runs on a thread of the cluster's main process; a
    restart (a wedged queue) that forked its new sentinel while such a thread was in, or leaving,
    OpenSSL would hand every new worker a lock no one releases. The fork waits for the thread."""
    settings.OFFBOARDING_SWEEP_SECONDS = 0
    monkeypatch.setattr(cluster.registry, "warm_tokens", lambda: [])
    monkeypatch.setattr(cluster.db.connections, "close_all", lambda: None)
    ended = threading.Event()

    def slow_resume(step_id: int) -> None:
        time.sleep(0.3)
        ended.set()

    monkeypatch.setattr(cluster, "_resume", slow_resume)
    seen_at_fork: list[bool] = []
    _fork_calls(monkeypatch, lambda: seen_at_fork.append(ended.is_set()))
    cluster._resume_in_thread(1)
    cluster.PortalCluster().start()
    assert seen_at_fork == [True]
    assert cluster._resuming == []


def test_the_cluster_fetches_access_tokens_before_it_forks_its_workers(monkeypatch, settings):
    """Every worker inherits the tokens (no first step of a system waits for a token request),
    and the database connection is closed after the fetch, before the fork."""
    settings.OFFBOARDING_SWEEP_SECONDS = 0
    order: list[str] = []
    monkeypatch.setattr(cluster.registry, "warm_tokens", lambda: order.append("tokens") or [])
    monkeypatch.setattr(
        cluster.db.connections, "close_all", lambda: order.append("connections closed")
    )
    _fork_calls(monkeypatch, lambda: order.append("forked"))
    cluster.PortalCluster().start()
    assert order == ["tokens", "connections closed", "forked"]


def test_the_portal_qcluster_command_replaces_django_q2s():
    from django.core.management import get_commands

    assert get_commands()["qcluster"] == "offboarding"


def test_the_system_check_refuses_a_heartbeat_slower_than_a_third_of_the_lease(settings):
    settings.OFFBOARDING_LEASE_SECONDS = 15
    settings.OFFBOARDING_HEARTBEAT_SECONDS = 6
    assert "offboarding.E002" in [m.id for m in check_runner_timeouts(None)]
    settings.OFFBOARDING_HEARTBEAT_SECONDS = 5
    assert "offboarding.E002" not in [m.id for m in check_runner_timeouts(None)]


# --- Health ---------------------------------------------------------------------------------------


@pytest.fixture
def no_beat():
    """No worker heartbeat yet (the cache may be Redis, shared by every test)."""
    from django.core.cache import cache

    cache.delete(heartbeat.BEAT_KEY)
    yield
    cache.delete(heartbeat.BEAT_KEY)


@pytest.mark.django_db
def test_workers_are_unhealthy_until_one_beats_and_after_it_falls_silent(settings, no_beat):
    settings.PORTAL_HEALTH_WORKER_SILENCE = 60
    assert health.check_workers() == "no worker has sent a heartbeat"
    heartbeat.worker_beat()
    assert health.check_workers() is None
    with time_machine.travel(timezone.now() + timedelta(seconds=75)):
        assert health.check_workers() == "no worker heartbeat for 75 s (limit 60 s)"


@pytest.mark.django_db
def test_the_queue_is_unhealthy_when_a_ready_step_waits_too_long(approved, queue, steps, settings):
    settings.PORTAL_HEALTH_QUEUE_WAIT = 120
    req = approved("reset_sessions", systems=["okta"])
    assert health.check_queue() is None, (
        "an approved request that has not started waits for no worker"
    )
    queue.run_starts()
    queue.sent.clear()  # the broker lost it, or no worker takes it
    assert health.check_queue() is None
    later = timezone.now() + timedelta(seconds=130)
    with time_machine.travel(later):
        # The sweeper's re-queue does not reset how long the step has waited.
        assert queue.sweep().requeued == 1
        assert health.check_queue() == "a ready step has waited 130 s for a worker (limit 120 s)"
    queue.drain()
    req.refresh_from_db()
    assert req.state == RS.SUCCEEDED
    with time_machine.travel(later):
        assert health.check_queue() is None


@pytest.mark.django_db
def test_steps_waiting_for_a_concurrency_slot_do_not_count_as_a_stalled_queue(
    approved, queue, steps, settings
):
    req = approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    StepRun.objects.filter(action_request=req).update(
        status=S.RETRYING, waiting_for_slot=True, next_attempt_at=timezone.now()
    )
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.PORTAL_HEALTH_QUEUE_WAIT * 2)
    ):
        assert health.check_queue() is None


@pytest.mark.django_db
def test_healthz_names_silent_workers_and_a_stalled_queue(client, approved, queue, no_beat):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == "no worker has sent a heartbeat"
    heartbeat.worker_beat()
    approved("reset_sessions", systems=["okta"])
    queue.run_starts()
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        heartbeat.worker_beat()
        assert client.get("/healthz").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        heartbeat.worker_beat()
        response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["workers"] == "ok"
    assert checks["queue"].startswith("a ready step has waited 30")


def test_run_sweeper_still_runs_once(db, capsys):
    call_command("run_sweeper")
    assert "lost leases: 0" in capsys.readouterr().out


# --- A wedged task queue ---------------------------------------------------------------------------


class _Timer:
    def __init__(self, value: float):
        self.value = value


class _Worker:
    def __init__(self, timer: float, alive: bool = True, pid: int = 1):
        self.timer, self.pid, self._alive = _Timer(timer), pid, alive

    def is_alive(self) -> bool:
        return self._alive


class _Queue:
    def __init__(self, size: int):
        self.size = size

    def qsize(self) -> int:
        return self.size


def _sentinel(pool, queued: int):
    from offboarding.runner.sentinel import WatchedSentinel

    watched = object.__new__(WatchedSentinel)  # no processes: only the watching logic
    watched.pool = pool
    watched.task_queue = _Queue(queued)
    watched.stop_event = threading.Event()
    return watched


@pytest.fixture
def wedge_flag(monkeypatch):
    from offboarding.runner import sentinel

    monkeypatch.setattr(sentinel, "_wedged", None)
    monkeypatch.setattr(sentinel, "STALL_SECONDS", 0.6)
    return sentinel.install_wedge_flag()


def test_a_worker_that_dies_while_waiting_for_a_task_wedges_the_queue(wedge_flag, monkeypatch):
    from django_q.cluster import Sentinel

    monkeypatch.setattr(Sentinel, "reincarnate", lambda self, process: None)
    busy, idle = _Worker(timer=30), _Worker(timer=-1)
    watched = _sentinel([busy, idle], queued=0)
    watched.reincarnate(busy)
    assert not wedge_flag.is_set(), "a worker killed in a task holds no queue lock"
    watched.reincarnate(idle)
    assert wedge_flag.is_set()


def test_tasks_waiting_while_every_worker_idles_wedge_the_queue(wedge_flag):
    watched = _sentinel([_Worker(timer=-1), _Worker(timer=-1)], queued=3)
    watcher = threading.Thread(target=watched._watch_queue, daemon=True)
    watcher.start()
    assert _wait_for(wedge_flag.is_set, seconds=10)
    watched.stop_event.set()


def test_a_queue_that_workers_take_from_is_not_wedged(wedge_flag):
    watched = _sentinel([_Worker(timer=12), _Worker(timer=-1)], queued=3)  # one is working
    watcher = threading.Thread(target=watched._watch_queue, daemon=True)
    watcher.start()
    time.sleep(1.5)  # longer than STALL_SECONDS here: nothing to notice
    watched.stop_event.set()
    watcher.join(timeout=5)
    assert not wedge_flag.is_set()
