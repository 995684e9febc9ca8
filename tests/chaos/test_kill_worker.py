"""Crash safety with a real qcluster on PostgreSQL against the sandbox, for both brokers: kill -9
the whole cluster while ~200 steps are running, restart it, and count steps lost, state-changing
calls duplicated, and the time until each step that was in flight is resumed.

Runs by default when DATABASE_URL is PostgreSQL (skipped on SQLite); the Redis case also needs
REDIS_URL. About a minute per broker:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/runner_int REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python -m pytest tests/chaos -q

The cluster (with its sweeper), the sandbox and the checks are separate processes, as in
production. Subprocesses use `tests.chaos.chaos_settings` (the production defaults) against their
own database, `<test database name>_chaos` (or CHAOS_DATABASE_URL); the Redis case flushes the
REDIS_URL database (or CHAOS_REDIS_URL) first. The set-up is `tests/chaos/conftest.py`, the
helpers `tests/chaos/harness.py`.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.chaos.harness import (
    NEEDS_POSTGRES,
    PEOPLE,
    RECOVERY_GOAL_S,
    Steps,
    broker_env,
    duplicates,
    effects,
    kill9,
    resumption_times,
    start,
    submit,
    unfinished_report,
    wait,
)

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, NEEDS_POSTGRES]


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_kill_9_mid_run_loses_no_step_and_duplicates_no_call(chaos, broker, capsys):
    env = broker_env(chaos, broker)
    base, log = chaos["base"], chaos["var"] / f"cluster-{broker}.log"
    ids = submit(chaos, env)
    steps = Steps(chaos["db_url"], ids)
    started = time.monotonic()
    cluster = start(env, "qcluster", log=log)
    try:
        # Kill when a good part is done and several steps are in the middle of their calls.
        before = wait(
            steps,
            lambda c: c["terminal"] >= c["total"] * 0.25 and c["by_status"].get("running", 0) >= 4,
            90,
        )
        held = steps.running()
        kill9(cluster)
        unstarted = steps.unstarted()  # their start tasks went with the cluster
        killed_at = time.monotonic()
        at_kill = steps.counts()
        in_flight = at_kill["by_status"].get("running", 0)
        killed_after = killed_at - started

        cluster = start(env, "qcluster", log=log)
        recovered, restarted = resumption_times(steps, held, unstarted, killed_at)
        after = wait(steps, lambda c: c["terminal"] == c["total"], 120)
        duration = time.monotonic() - started
    finally:
        kill9(cluster)
    applied = effects(base)
    duplicated, resent = duplicates(applied)
    lost = after["total"] - after["terminal"]
    figures = {
        "broker": broker,
        "steps": after["total"],
        "terminal_at_kill": at_kill["terminal"],
        "in_flight_at_kill": in_flight,
        "killed_after_s": round(killed_after, 1),
        "recovery_s_max": max(recovered.values(), default=None),
        "recovery_s": sorted(recovered.values()),
        "unstarted_at_kill": len(unstarted),
        "start_recovery_s_max": max(restarted.values(), default=None),
        "lost": lost,
        "duplicated_state_changes": sum(n - 1 for n in duplicated.values()),
        "resent_sign_outs": sum(n - 1 for n in resent.values()),
        "state_changing_effects": sum(1 for e in applied if e["applied"]),
        "duration_s": round(duration, 1),
        "final_steps": after["by_status"],
        "final_requests": steps.request_states(),
    }
    with capsys.disabled():
        print(f"\nkill -9 (whole cluster) figures: {json.dumps(figures)}")
    assert after["total"] >= 200 or PEOPLE < 16
    assert before["by_status"].get("running", 0) >= 1, f"nothing was in flight: {before}"
    assert held and in_flight >= 1, at_kill
    assert set(recovered) == set(held), f"not resumed: {set(held) - set(recovered)}"
    assert max(recovered.values()) <= RECOVERY_GOAL_S, recovered
    assert set(restarted) == set(unstarted), f"not started: {set(unstarted) - set(restarted)}"
    assert max(restarted.values(), default=0) <= RECOVERY_GOAL_S, restarted
    assert lost == 0, f"{after}\n{unfinished_report(steps, log)}"
    assert duplicated == {}, duplicated
    done = after["by_status"].get("succeeded", 0) + after["by_status"].get("skipped", 0)
    assert done > after["total"] // 2, after
