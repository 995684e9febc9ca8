"""The database, the cache and the task broker, read and checked here from DATABASE_URL, REDIS_URL and
the Q_* variables.

`portal/settings.py` names every value from this module: Django reads them from there. Kept apart only
so that each settings module stays short.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_choice, env_float, env_int, env_secret, env_str


def _var_dir() -> Path:
    base = Path(__file__).resolve().parent.parent
    return Path(env_str("PORTAL_VAR_DIR", str(base / "var")))


VAR_DIR = _var_dir()

# --- Database -------------------------------------------------------------------------------
_DEFAULT_DB_URL = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
DATABASE_URL = env_secret("DATABASE_URL") or _DEFAULT_DB_URL
try:
    _db = dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    )
except Exception:  # dj-database-url raises several types for one mistake
    raise ImproperlyConfigured(
        "DATABASE_URL must look like postgres://user:password@host:5432/name or sqlite:///path."
    ) from None
if _db.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
    raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL.")
if _db["ENGINE"].endswith("sqlite3"):
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL with synchronous=NORMAL: a commit survives any crash of the portal's processes (kill -9
    # included) but not a power cut of the machine, which may lose the last commits (never the
    # file's consistency); FULL waits for an fsync per commit (~8 ms here, 200x slower).
    _sqlite_sync = env_choice("PORTAL_SQLITE_SYNCHRONOUS", "NORMAL", ("NORMAL", "FULL"))
    # Several processes (web, worker, tests) share the file: wait for locks instead of failing.
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={_sqlite_sync};",
    }
    _db["CONN_MAX_AGE"] = 0
else:
    _db["CONN_HEALTH_CHECKS"] = True
    # A process frozen inside a transaction (SIGSTOP, a paused VM) must not hold its row locks
    # for ever: the server ends such a session after this many seconds, and every other worker
    # goes on (no transaction here waits on anything but the database; docs/RUNNER.md).
    _idle = env_int("DB_IDLE_TRANSACTION_TIMEOUT", 10, minimum=1, maximum=3600)
    _db.setdefault("OPTIONS", {})["options"] = (
        _db.get("OPTIONS", {}).get("options", "")
        + f" -c idle_in_transaction_session_timeout={_idle * 1000}"
    ).strip()
# Tests may name their database (a file for SQLite, so a real qcluster process can share it).
_db["TEST"] = {"NAME": env_str("PORTAL_TEST_DB_NAME") or None}
DATABASES = {"default": _db}

# --- Cache and task broker -----------------------------------------------------------------------
REDIS_URL = env_secret("REDIS_URL")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }

Q_CLUSTER: dict = {
    "name": "portal",
    "workers": env_int("Q_WORKERS", 4, minimum=1, maximum=64),
    # A task runs at most `timeout` seconds; the broker hands it out again after `retry` seconds.
    "timeout": env_int("Q_TIMEOUT", 90, minimum=10),
    "retry": env_int("Q_RETRY", 180, minimum=20),
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 500,
    "ack_failures": True,
    # How long the ORM broker's pusher sleeps when the queue is empty (Redis blocks on BLPOP).
    "poll": env_float("Q_POLL", 0.05, minimum=0.01, maximum=5),
    "label": "Task queue",
}
# Tasks a cluster pulls ahead of its workers (django-q2's default is workers²): few, so a step taken
# back from a dead worker waits behind little, and a killed cluster takes little with it.
Q_CLUSTER["queue_limit"] = Q_CLUSTER["workers"]
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("Q_TIMEOUT must be lower than Q_RETRY, or tasks run twice at once.")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
