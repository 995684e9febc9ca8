"""Real Chromium (Debian's package) driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls in test code are still
# synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed journey shows what its worker cluster logged (the log is otherwise in a temporary
    directory): the last 200 lines, under "qcluster log" in the report."""
    outcome = yield
    report = outcome.get_result()
    proc = item.funcargs.get("qcluster_process") if hasattr(item, "funcargs") else None
    if report.failed and proc is not None and getattr(proc, "log_path", None):
        try:
            lines = Path(proc.log_path).read_text(errors="replace").splitlines()[-200:]
        except OSError as exc:
            lines = [f"(could not read {proc.log_path}: {exc})"]
        report.sections.append(("qcluster log", "\n".join(lines)))


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which("chromium") and not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1200, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Save a screenshot under test-artifacts/screenshots (not committed)."""

    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in(password):
    def do(page, username: str) -> None:
        page.goto("/accounts/login/")
        page.locator("input[name=login]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()

    return do


# --- A real worker, the sandbox, connections and a delegation (for the journeys) -----------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def new_page(chromium, live_server):
    """More browser contexts (one per person), closed at teardown."""
    contexts = []

    def make(width: int = 1200, height: int = 800):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sandbox_connections(sandbox, settings, transactional_db):
    """The four connections, enabled, pointing at the in-process sandbox (loopback allowed)."""
    from connections import registry, services
    from connections.management.commands.configure_sandbox_connections import (
        sandbox_connections as specs,
    )

    settings.PORTAL_SANDBOX = True
    registry.reset_clients()
    made = []
    for system, spec in specs(sandbox.base_url.rstrip("/"), sandbox.credentials).items():
        result = services.connection_save(
            system=system,
            actor=None,
            label=f"{system.label} (sandbox)",
            settings=spec["settings"],
            secret=spec["secret"],
        )
        made.append(
            services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)
        )
    yield made
    registry.reset_clients()


@pytest.fixture
def browser_delegation(helpdesk, approver, other_approver, transactional_db):
    """Service desk (helpdesk, approver) may request anything for anyone; IT managers approve."""
    from django.contrib.auth.models import Group

    from offboarding.models import Delegation

    team = Group.objects.create(name="Service desk")
    managers = Group.objects.create(name="IT managers")
    helpdesk.groups.add(team)
    approver.groups.add(team, managers)
    other_approver.groups.add(managers)
    return Delegation.objects.create(
        name="Service desk → everyone",
        team=team,
        allowed_actions=["reset_sessions", "offboard", "reinstate"],
        target_group_ids=[],
        approver_group=managers,
        approvals_needed=1,
        expiry_hours=24,
    )


def _worker_database_url() -> str:
    """The test database as a DATABASE_URL the worker subprocess can open."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return (
        f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture(scope="module")
def qcluster_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `manage.py qcluster` sharing the test database, for the whole module (starting and
    stopping one per test would double the journeys' time). SIGTERM, then SIGKILL, at the end.

    It runs tests/browser/worker_settings.py: the portal's settings with one attempt per step, so
    that a sandbox fault fails a step at once instead of after minutes of back-off.
    """
    import signal
    import subprocess
    import sys

    with django_db_blocker.unblock():
        database_url = _worker_database_url()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="tests.browser.worker_settings",
        PORTAL_SANDBOX="true",
        Q_WORKERS="2",
    )
    env.pop("PORTAL_TEST_DB_NAME", None)
    log_path = tmp_path_factory.mktemp("qcluster") / "qcluster.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_path = log_path  # type: ignore[attr-defined]  # shown when a journey fails
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


@pytest.fixture
def qcluster(qcluster_process, sandbox_connections):
    """The module's worker, with this test's connections in place; fails if the worker died."""
    assert qcluster_process.poll() is None, "the qcluster subprocess exited"
    return qcluster_process
