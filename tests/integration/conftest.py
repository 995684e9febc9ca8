"""The real registry and clients against the in-process sandbox, with tasks drained in-process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group

from connections import registry, services
from connections.management.commands.configure_sandbox_connections import sandbox_connections
from connections.providers.tokens import TOKEN_CACHE
from offboarding import services as request_services
from offboarding import tasks
from offboarding.models import ActionRequest, Delegation, StepRun
from tests.spec_transport import check_every_real_call

ALL_SYSTEMS = ("okta", "google", "msgraph", "zoom")
# The sandbox names Microsoft Graph "graph" (fault and effect log); the portal says "msgraph".
SANDBOX_NAME = {"okta": "okta", "google": "google", "zoom": "zoom", "msgraph": "graph"}


@pytest.fixture
def connected(sandbox, settings, monkeypatch):
    """The four connections saved and enabled, pointing at the sandbox (as the command does).

    Every request the clients send is checked against the API specs (tests/spec_transport.py).
    """
    check_every_real_call(monkeypatch)
    settings.PORTAL_SANDBOX = True
    registry.reset_clients()
    TOKEN_CACHE.clear()
    for system, spec in sandbox_connections(sandbox.base_url, sandbox.credentials).items():
        result = services.connection_save(
            system=system, actor=None, label="", settings=spec["settings"], secret=spec["secret"]
        )
        services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)
    yield sandbox
    registry.reset_clients()
    TOKEN_CACHE.clear()


@dataclass
class RequestLog:
    """Every API request the sandbox received: (time by the sandbox's clock, system, method, path)."""

    entries: list[tuple[datetime, str, str, str]] = field(default_factory=list)

    def of(self, system: str) -> list[tuple[datetime, str, str, str]]:
        return [e for e in self.entries if e[1] == SANDBOX_NAME.get(system, system)]


@pytest.fixture
def request_log(connected, monkeypatch) -> RequestLog:
    """Wrap the sandbox's API dispatcher so each request is logged when it arrives."""
    log = RequestLog()
    app = connected.app
    real_api = app._api

    def logged(req, route):
        log.entries.append((datetime.now(UTC), req.system, req.method, req.path))
        return real_api(req, route)

    monkeypatch.setattr(app, "_api", logged)
    return log


@dataclass
class TaskQueue:
    """Records async_task calls; `drain` runs them the way a worker would (on_commit included)."""

    capture: Callable
    sent: list[tuple[str, tuple]] = field(default_factory=list)

    def __call__(self, func: str, *args: Any) -> None:
        self.sent.append((func, args))

    def run(self, func: str, *args: Any) -> Any:
        with self.capture(execute=True):
            return getattr(tasks, func.rsplit(".", 1)[1])(*args)

    def drain(self, limit: int = 500) -> int:
        ran = 0
        while self.sent and ran < limit:
            func, args = self.sent.pop(0)
            self.run(func, *args)
            ran += 1
        return ran

    def sweep(self) -> str:
        """One pass of the scheduled sweeper task, then whatever it queued."""
        report = self.run("offboarding.tasks.sweep")
        self.drain()
        return report


@pytest.fixture
def queue(monkeypatch, settings, django_capture_on_commit_callbacks) -> TaskQueue:
    q = TaskQueue(capture=django_capture_on_commit_callbacks)
    monkeypatch.setattr("offboarding.progress.queue_task", q)
    settings.OFFBOARDING_SPREAD_STEPS = False  # no other worker reads this queue
    return q


@dataclass
class Flow:
    """Make, approve and run requests against the sandbox as the helpdesk and an approver would."""

    queue: TaskQueue
    requester: Any
    approver: Any
    capture: Callable

    def okta_id(self, email: str) -> str:
        return registry.okta_get_user(email)["id"]

    def approved(
        self, kind: str, email: str, *, systems=ALL_SYSTEMS, options=None
    ) -> ActionRequest:
        """Submitted and approved: started by the approval, its first steps queued, none run."""
        with self.capture(execute=True):
            req = request_services.action_request_submit(
                requester=self.requester,
                target_okta_id=self.okta_id(email),
                kind=kind,
                systems=list(systems),
                options=options,
                reason="integration test",
            )
            return request_services.action_request_approve(
                action_request_id=req.pk, approver=self.approver
            )

    def started(self, kind: str, email: str, **kwargs: Any) -> ActionRequest:
        """Approved and started: the first steps are queued, none has run."""
        req = self.approved(kind, email, **kwargs)
        starts = [t for t in self.queue.sent if t[0].endswith("start_request")]
        self.queue.sent = [t for t in self.queue.sent if not t[0].endswith("start_request")]
        for func, args in starts:
            assert self.queue.run(func, *args) is True
        return req

    def run(self, kind: str, email: str, **kwargs: Any) -> ActionRequest:
        req = self.approved(kind, email, **kwargs)
        self.queue.drain()
        req.refresh_from_db()
        return req

    @staticmethod
    def steps(req: ActionRequest) -> dict[str, StepRun]:
        return {s.key: s for s in StepRun.objects.filter(action_request=req)}


@pytest.fixture
def flow(
    connected, queue, helpdesk, approver, other_approver, django_capture_on_commit_callbacks
) -> Flow:
    team = Group.objects.create(name="Service desk")
    helpdesk.groups.add(team)
    managers = Group.objects.create(name="IT managers")
    approver.groups.add(managers)
    Delegation.objects.create(
        name="Service desk → everyone",
        team=team,
        allowed_actions=["reset_sessions", "offboard", "reinstate"],
        target_group_ids=[],
        approver_group=managers,
        approvals_needed=1,
        expiry_hours=24,
    )
    return Flow(queue, helpdesk, approver, django_capture_on_commit_callbacks)
