"""The chaos tests' shared set-up: a fresh PostgreSQL database, a sandbox process, and the four
connections pointing at it (once per session)."""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.chaos.harness import WORKERS, chaos_db_url, free_port, kill9, maintenance, manage, start


@pytest.fixture(scope="session")
def chaos(tmp_path_factory):
    db_url = chaos_db_url()
    name = urlsplit(db_url).path.lstrip("/")
    maintenance(db_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    maintenance(db_url, f'CREATE DATABASE "{name}"')
    var = tmp_path_factory.mktemp("chaos-var")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("PYTEST", "REDIS_URL", "PORTAL_TEST_DB", "OFFBOARDING_", "Q_", "DB_IDLE_")
        )
    }
    # The production defaults for leases, heartbeats, the sweep and task timeouts: the recovery
    # times measured are the ones a deployment gets.
    env.update(
        DJANGO_SETTINGS_MODULE="tests.chaos.chaos_settings",
        DATABASE_URL=db_url,
        PORTAL_SANDBOX="true",
        PORTAL_SANDBOX_URL=f"http://127.0.0.1:{port}",
        PORTAL_VAR_DIR=str(var),
        DEBUG="true",
        PORTAL_HTTPS="false",
        Q_WORKERS=WORKERS,
    )
    sandbox = start(
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
        manage(env, "migrate", "--no-input", "--skip-checks")
        manage(env, "createcachetable")  # worker heartbeats (ORM broker)
        manage(env, "configure_sandbox_connections", "--skip-checks")
        yield {"env": env, "base": base, "db_url": db_url, "var": var}
    finally:
        kill9(sandbox)
