"""Bulk: BENCH_BULK offboards (22 steps each) started at once against the sandbox's Okta-like rate
limits (`--rate-limit-per-minute default`), one qcluster of the default size, the sweeper loop.

Prints the makespan, steps per second, the qcluster's CPU per step, every rate bucket's use over
the run against its ceiling (the binding one first; goal ≥ 90%), and the steps that failed because
of a 429 (goal 0). Requests are created approved in the database (as a bulk import would), so the
start's live re-check of each person runs in the workers like the rest.

Knobs: BENCH_BULK (100; the issue's figure is 1000, about 45 minutes: bound by Okta's app
unassignments, 100 a minute, ~4.4 a person in the sandbox), BENCH_LATENCY_MS (0),
BENCH_WORKERS (the default cluster size, 4), BENCH_DATABASE_URL / BENCH_REDIS_URL, BENCH_RATE
("default", or calls per minute for every bucket of BENCH_RATE_SYSTEM, e.g. 120 and okta: a bucket
a short run can fill, to watch the pacing at work).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from tests.bench import harness

BULK = int(os.environ.get("BENCH_BULK", "100"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "0"))
WORKERS = os.environ.get("BENCH_WORKERS", "4")
SYSTEMS = ["okta", "google", "msgraph", "zoom"]
GOAL_USE = 0.90
GOOGLE_RATE_CODES = ("userRateLimitExceeded", "rateLimitExceeded")
RATE = os.environ.get("BENCH_RATE", "default")
RATE_SYSTEM = os.environ.get("BENCH_RATE_SYSTEM", "all")


def _create(people: list[dict]) -> list[int]:
    """Approved offboards with their steps, as the approval makes them, not yet started."""
    from django.db import transaction
    from django.utils import timezone

    from offboarding.models import ActionRequest
    from offboarding.playbooks import normalise_options
    from offboarding.services import request_fingerprint, step_runs_create

    requester, _ = harness.cast(["offboard"])
    options = normalise_options("offboard", None)
    ids = []
    with transaction.atomic():
        for person in people:
            profile = person["profile"]
            req = ActionRequest.objects.create(
                kind="offboard",
                state="approved",
                target_okta_id=person["id"],
                target_login=profile["login"],
                target_email=profile.get("email", ""),
                target_profile=profile,
                systems=SYSTEMS,
                options=options,
                reason="bench bulk",
                requester=requester,
                approved_at=timezone.now(),
                fingerprint=request_fingerprint(
                    kind="offboard", target_okta_id=person["id"], systems=SYSTEMS, options=options
                ),
            )
            step_runs_create(req)
            ids.append(req.pk)
    return ids


def _wait_all(ids: list[int], timeout: float) -> float:
    from offboarding.models import ActionRequest

    deadline = time.time() + timeout
    while time.time() < deadline:
        left = ActionRequest.objects.filter(pk__in=ids, finished_at__isnull=True).count()
        if not left:
            break
        time.sleep(0.5)
    last = ActionRequest.objects.filter(pk__in=ids).order_by("-finished_at").first()
    return last.finished_at.timestamp() if last and last.finished_at else time.time()


def _steps_report(ids: list[int]) -> dict[str, int]:
    from django.db.models import Q

    from offboarding.models import StepAttempt, StepRun

    steps = StepRun.objects.filter(action_request_id__in=ids)
    attempts = StepAttempt.objects.filter(step__action_request_id__in=ids)
    failed = steps.filter(status=StepRun.Status.FAILED)
    # Google answers its rate limits with 403 (userRateLimitExceeded / rateLimitExceeded), the
    # others with 429 (CONTRACTS.md).
    limited = Q(status_code=429) | Q(status_code=403, error_code__in=GOOGLE_RATE_CODES)
    failed_limited = Q(attempt_records__status_code=429) | Q(
        attempt_records__status_code=403, attempt_records__error_code__in=GOOGLE_RATE_CODES
    )
    return {
        "steps": steps.count(),
        "succeeded": steps.filter(status__in=["succeeded", "skipped"]).count(),
        "failed": failed.count(),
        "failed by 429": failed.filter(failed_limited).distinct().count(),
        "answers 429": attempts.filter(limited).count(),
        "attempts": steps.values_list("attempts", flat=True),
    }


def _buckets(base: str, start: float, end: float) -> list[tuple[float, dict]]:
    """Each bucket's use over the run: calls served / (limit per minute × minutes), busiest first."""
    windows = httpx.get(f"{base}/_sandbox/rate-usage", timeout=10).json()["windows"]
    minutes = max((end - start) / 60, 1 / 60)
    totals: dict[tuple[str, str], dict] = {}
    for w in windows:
        t = totals.setdefault(
            (w["system"], w["family"]), {"served": 0, "refused": 0, "limit": w["limit"], "full": []}
        )
        t["served"] += w["served"]
        t["refused"] += w["refused"]
        if start <= w["start"] and w["start"] + 60 <= end:
            t["full"].append(w["served"] / w["limit"])
    rows = [(t["served"] / (t["limit"] * minutes), {"key": k, **t}) for k, t in totals.items()]
    return sorted(rows, key=lambda r: -r[0])


def _report(env, ids, makespan, cpu, steps, buckets) -> None:
    n = steps["steps"]
    attempts = list(steps["attempts"])
    print(
        f"{harness.backend(env)}, {WORKERS} workers, {os.cpu_count()} CPUs, "
        f"latency {LATENCY_MS} ms, rate limits: {RATE} ({RATE_SYSTEM})"
    )
    print(
        f"{len(ids)} offboards, {n} steps: makespan {makespan:.1f}s = {n / makespan:.1f} steps/s; "
        f"succeeded {steps['succeeded']}, failed {steps['failed']}"
    )
    print(
        f"   steps failed because of a rate limit: {steps['failed by 429']}   goal 0 "
        f"(rate-limit answers seen: {steps['answers 429']}, 429s and Google's 403 "
        f"userRateLimitExceeded; attempts per step max {max(attempts)})"
    )
    print(f"   qcluster CPU {cpu:.1f}s = {1000 * cpu / n:.1f} ms per step")
    for i, (use, b) in enumerate(buckets[:4]):
        full = b["full"]
        per_window = f", full windows {min(full):.0%}-{max(full):.0%}" if full else ""
        goal = f"   goal >= {GOAL_USE:.0%}" if i == 0 else ""
        print(
            f"   bucket {b['key'][0]}/{b['key'][1]} ({b['limit']}/min): {b['served']} served, "
            f"{b['refused']} refused: {use:.0%} of its ceiling over the run{per_window}{goal}"
        )


def run() -> None:
    with harness.cluster(
        workers=WORKERS,
        users=int(BULK * 1.25) + 50,  # about 86% of the sandbox's people are ACTIVE in Okta
        sandbox_args=(
            *("--latency-ms", str(LATENCY_MS), "--rate-limit-per-minute", RATE),
            *("--system", RATE_SYSTEM),
        ),
    ) as (env, base, cluster_pid):
        from offboarding import progress

        ids = _create(harness.targets(BULK))
        cpu0 = harness.cpu_seconds(cluster_pid)
        start = time.time()
        for pk in ids:
            progress.enqueue_start(pk)
        # ~4.4 app unassignments a person at Okta's 100 a minute: ~2.7 s a person, rate-bound.
        end = _wait_all(ids, timeout=max(600, BULK * 4))
        cpu = harness.cpu_seconds(cluster_pid) - cpu0
        _report(env, ids, end - start, cpu, _steps_report(ids), _buckets(base, start, end))


def main() -> None:
    """Run in a fresh process: Django is configured once per process, and differently here."""
    subprocess.run(  # noqa: S603 (our own module)
        [sys.executable, "-m", "tests.bench.bench_bulk", "--run"], cwd=harness.ROOT, check=True
    )


if __name__ == "__main__":
    if "--run" in sys.argv:
        run()
    else:
        main()
