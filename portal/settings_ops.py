"""Operational settings, read and cross-checked here: the step runner (docs/RUNNER.md "Knobs"),
/healthz, and the signed audit checkpoints (docs/SECURITY.md).

`portal/settings.py` imports every name from this module: Django reads them from there, and the code
reads `settings.X` and nothing else. Kept apart only so that each settings module stays short.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_float, env_int, env_str

# The step runner (docs/RUNNER.md "Knobs"): attempts per step, crashes before quarantine, lease and
# re-enqueue ages, backoff between attempts. The code reads these settings and nothing else.
OFFBOARDING_MAX_ATTEMPTS = env_int("OFFBOARDING_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
OFFBOARDING_QUARANTINE_AFTER = env_int("OFFBOARDING_QUARANTINE_AFTER", 3, minimum=1, maximum=10)
# A claimed step's lease is renewed every HEARTBEAT seconds while its call runs, so it can be short:
# a dead worker's step is taken back LEASE + SWEEP seconds after the death at the latest.
OFFBOARDING_LEASE_SECONDS = env_int("OFFBOARDING_LEASE_SECONDS", 15, minimum=6, maximum=3600)
OFFBOARDING_HEARTBEAT_SECONDS = env_float(
    "OFFBOARDING_HEARTBEAT_SECONDS", OFFBOARDING_LEASE_SECONDS / 3, minimum=0.5
)
if OFFBOARDING_HEARTBEAT_SECONDS * 3 > OFFBOARDING_LEASE_SECONDS:
    raise ImproperlyConfigured(
        "OFFBOARDING_HEARTBEAT_SECONDS must be at most a third of OFFBOARDING_LEASE_SECONDS, "
        "or one slow renewal makes a live step look abandoned."
    )
# How often each `qcluster` runs the sweeper in its main process (0: only the scheduled sweep).
OFFBOARDING_SWEEP_SECONDS = env_float("OFFBOARDING_SWEEP_SECONDS", 5.0, minimum=0, maximum=300)
if 0 < OFFBOARDING_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured("OFFBOARDING_SWEEP_SECONDS must be 0 (off) or at least 1.")
# On SIGTERM a cluster releases queued work and exits within this many seconds, killing the
# workers whose calls are still in flight (their leases bring the steps back).
OFFBOARDING_SHUTDOWN_SECONDS = env_float("OFFBOARDING_SHUTDOWN_SECONDS", 8.0, minimum=2, maximum=60)
# An approval whose live Okta check is younger than this starts the request in its own transaction;
# 0: never (the start task reads Okta again).
OFFBOARDING_CHECK_REUSE_SECONDS = env_int(
    "OFFBOARDING_CHECK_REUSE_SECONDS", 30, minimum=0, maximum=300
)
# Threads one step task uses for the same-system steps that become ready behind it (lock → revokes).
OFFBOARDING_STEP_THREADS = env_int("OFFBOARDING_STEP_THREADS", 8, minimum=1, maximum=16)
# With the Redis broker and no backlog, a task that runs several steps itself also queues all but
# the first, so idle workers of other processes may take them (runner.chain).
OFFBOARDING_SPREAD_STEPS = env_bool("OFFBOARDING_SPREAD_STEPS", True)
OFFBOARDING_REQUEUE_AFTER = env_int("OFFBOARDING_REQUEUE_AFTER", 120, minimum=10)
# A step a task made ready and runs itself on a thread (runner.chain) is claimed within
# milliseconds, or within chain.SLOT_WAIT (10 s) when its system is busy: still unclaimed this
# long after, the task died, and the sweeper queues the step.
OFFBOARDING_FOLLOW_REQUEUE_AFTER = env_int(
    "OFFBOARDING_FOLLOW_REQUEUE_AFTER", 20, minimum=11, maximum=OFFBOARDING_REQUEUE_AFTER
)
OFFBOARDING_BACKOFF_BASE = env_float("OFFBOARDING_BACKOFF_BASE", 2.0, minimum=0.1, maximum=60)
OFFBOARDING_BACKOFF_CAP = env_float("OFFBOARDING_BACKOFF_CAP", 300.0, minimum=5)
# /healthz answers 503 when no worker has sent a heartbeat for WORKER_SILENCE seconds, or when a
# ready step has waited longer than QUEUE_WAIT seconds for a worker (docs/OPERATIONS.md).
PORTAL_HEALTH_WORKER_SILENCE = env_int("PORTAL_HEALTH_WORKER_SILENCE", 60, minimum=5, maximum=3600)
PORTAL_HEALTH_QUEUE_WAIT = env_int("PORTAL_HEALTH_QUEUE_WAIT", 120, minimum=10, maximum=86400)
if PORTAL_HEALTH_WORKER_SILENCE < OFFBOARDING_HEARTBEAT_SECONDS * 3:
    raise ImproperlyConfigured(
        "PORTAL_HEALTH_WORKER_SILENCE must be at least three OFFBOARDING_HEARTBEAT_SECONDS, "
        "or /healthz fails while workers are well."
    )
if PORTAL_HEALTH_QUEUE_WAIT <= OFFBOARDING_SWEEP_SECONDS * 2:
    raise ImproperlyConfigured(
        "PORTAL_HEALTH_QUEUE_WAIT must be longer than two OFFBOARDING_SWEEP_SECONDS."
    )
if OFFBOARDING_BACKOFF_CAP < OFFBOARDING_BACKOFF_BASE:
    raise ImproperlyConfigured(
        "OFFBOARDING_BACKOFF_CAP must not be lower than OFFBOARDING_BACKOFF_BASE."
    )
# Signed audit checkpoints sent outside the database (docs/SECURITY.md): "file:/var/log/portal/
# audit-checkpoints.jsonl", "syslog" or "https://siem.example.com/path"; empty sends none. The
# sweeper sends one when EVERY events were added or MINUTES passed since the last (if any were).
PORTAL_AUDIT_CHECKPOINT_SINK = env_str("PORTAL_AUDIT_CHECKPOINT_SINK")
if PORTAL_AUDIT_CHECKPOINT_SINK and not (
    PORTAL_AUDIT_CHECKPOINT_SINK == "syslog"
    or PORTAL_AUDIT_CHECKPOINT_SINK.startswith(("file:/", "https://"))
):
    raise ImproperlyConfigured(
        "PORTAL_AUDIT_CHECKPOINT_SINK must be file:/absolute/path, syslog or https://host/path."
    )
PORTAL_AUDIT_CHECKPOINT_EVERY = env_int("PORTAL_AUDIT_CHECKPOINT_EVERY", 1000, minimum=1)
PORTAL_AUDIT_CHECKPOINT_MINUTES = env_int(
    "PORTAL_AUDIT_CHECKPOINT_MINUTES", 5, minimum=1, maximum=24 * 60
)
