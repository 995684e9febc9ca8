"""A fake connector registry, a task queue that records instead of sending, and request helpers."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group

from connections.types import (
    AccountState,
    CallRecord,
    ConnectorError,
    OperationResult,
    Outcome,
    System,
    Target,
    record_call,
)
from offboarding import runner, tasks
from offboarding import services as request_services
from offboarding.models import ActionRequest, Delegation, ProtectedGroup, StepRun

LOCKS = {
    ("okta", "suspend"),
    ("google", "suspend"),
    ("msgraph", "disable"),
    ("zoom", "deactivate"),
    ("okta", "deactivate"),
}
UNLOCKS = {
    ("okta", "unsuspend"),
    ("google", "unsuspend"),
    ("msgraph", "enable"),
    ("zoom", "activate"),
}


@dataclass
class Fault:
    """What the next call of (system, operation) does instead of succeeding."""

    error: ConnectorError
    apply_first: bool = False  # the effect lands, then the answer is lost (outcome unknown)


@dataclass
class FakeRegistry:
    """Four systems with accounts per Okta id; every call recorded; faults queued per operation."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    accounts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    faults: dict[tuple[str, str], list[Fault]] = field(default_factory=dict)
    calls: list[tuple[str, str, str, dict]] = field(default_factory=list)
    reads: list[tuple[str, str]] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    okta_down: ConnectorError | None = None
    on_call: Callable[[str, str], None] | None = None

    def add_user(
        self,
        okta_id: str = "00u1",
        login: str = "pat@example.com",
        *,
        groups: tuple[tuple[str, str], ...] = (("00gStaff", "Staff"),),
        systems: tuple[str, ...] = ("okta", "google", "msgraph", "zoom"),
        status: str = "ACTIVE",
    ) -> str:
        first, _, last = login.partition("@")[0].partition(".")
        self.users[okta_id] = {
            "id": okta_id,
            "status": status,
            "profile": {
                "login": login,
                "email": login,
                "firstName": first.title(),
                "lastName": last.title(),
            },
        }
        self.groups[okta_id] = [
            {"id": gid, "name": name, "type": "OKTA_GROUP"} for gid, name in groups
        ]
        for system in systems:
            self.accounts[(system, okta_id)] = {"locked_out": False, "state": "ACTIVE"}
        return okta_id

    def move_into_group(self, okta_id: str, group_id: str, name: str) -> None:
        self.groups[okta_id].append({"id": group_id, "name": name, "type": "OKTA_GROUP"})

    def fail(self, system: str, operation: str, *faults: Fault | ConnectorError) -> None:
        queue = self.faults.setdefault((system, operation), [])
        queue.extend(f if isinstance(f, Fault) else Fault(f) for f in faults)

    def effectful_calls(self, system: str | None = None, operation: str | None = None) -> list:
        return [
            c
            for c in self.calls
            if (system is None or c[0] == system) and (operation is None or c[1] == operation)
        ]

    # --- the registry API -------------------------------------------------------------------
    def concurrency_limit(self, system: System) -> int:
        return self.limits.get(str(system), 10)

    def okta_get_user(self, user_id_or_login: str) -> dict:
        if self.okta_down:
            raise self.okta_down
        for user in self.users.values():
            if user_id_or_login in (user["id"], user["profile"]["login"]):
                return user
        raise ConnectorError(
            "Okta: user not found (E0000007)", system="okta", status=404, code="E0000007"
        )

    def okta_user_groups(self, user_id: str) -> list[dict]:
        if self.okta_down:
            raise self.okta_down
        return list(self.groups.get(user_id, []))

    def okta_user_and_groups(self, user_id_or_login: str) -> tuple[dict, list[dict]]:
        user = self.okta_get_user(user_id_or_login)
        return user, self.okta_user_groups(user["id"])

    def okta_search_users(
        self, *, query: str = "", expression: str = "", after=None, limit: int = 20
    ):
        return [u for u in self.users.values() if query in u["profile"]["login"]][:limit], None

    def read_account(self, system: System, *, target: Target) -> AccountState:
        system = str(system)
        self.reads.append((system, target.okta_id))
        record_call(CallRecord(system, "GET", f"/{system}/users/{target.okta_id}", 200, 1.0))
        account = self.accounts.get((system, target.okta_id))
        if account is None:
            return AccountState(exists=False, detail="no account")
        return AccountState(
            exists=True,
            state=account["state"],
            locked_out=account["locked_out"],
            account_id=target.okta_id,
        )

    def read_holdings(self, system: System, *, target: Target, operations) -> dict[str, str]:
        return {}  # what removing steps would remove: not modelled here

    def _apply(self, system: str, operation: str, okta_id: str) -> OperationResult:
        account = self.accounts.get((system, okta_id))
        if account is None:
            return OperationResult(Outcome.NO_ACCOUNT, "no account")
        if (system, operation) == ("okta", "deactivate"):
            if account["state"] == "DEPROVISIONED":
                return OperationResult(Outcome.ALREADY_DONE, "already deactivated")
            account.update(state="DEPROVISIONED", locked_out=True)
            return OperationResult(Outcome.DONE)
        if (system, operation) in LOCKS:
            if account["locked_out"]:
                return OperationResult(Outcome.ALREADY_DONE, "already suspended")
            account.update(state="SUSPENDED", locked_out=True)
        elif (system, operation) in UNLOCKS:
            if not account["locked_out"]:
                return OperationResult(Outcome.ALREADY_DONE, "already active")
            account.update(state="ACTIVE", locked_out=False)
        return OperationResult(Outcome.DONE)

    def run_operation(
        self, system: System, operation: str, *, target: Target, options=None
    ) -> OperationResult:
        system = str(system)
        if self.on_call:
            self.on_call(system, operation)
        queue = self.faults.get((system, operation))
        fault = queue.pop(0) if queue else None
        path = f"/{system}/users/{target.okta_id}/{operation}"
        if fault is not None:
            if fault.apply_first:
                self.calls.append((system, operation, target.okta_id, dict(options or {})))
                self._apply(system, operation, target.okta_id)
            record_call(
                CallRecord(
                    system,
                    "POST",
                    path,
                    fault.error.status,
                    5.0,
                    fault.error.code,
                    fault.error.message,
                )
            )
            raise fault.error
        if operation == "verify":  # a read-back changes nothing: recorded as a read
            return self._read_back(system, target.okta_id, options or {})
        self.calls.append((system, operation, target.okta_id, dict(options or {})))
        result = self._apply(system, operation, target.okta_id)
        record_call(CallRecord(system, "POST", path, 200, 5.0))
        return result

    def _read_back(self, system: str, okta_id: str, ran: dict) -> OperationResult:
        """What a provider's verify returns: the account's state, verified unless a lock step
        ran (the options name the steps that ran) and the account is not locked."""
        self.reads.append((system, okta_id))
        record_call(CallRecord(system, "GET", f"/{system}/users/{okta_id}", 200, 1.0))
        account = self.accounts.get((system, okta_id))
        if account is None:
            return OperationResult(Outcome.NO_ACCOUNT, "no account")
        locked = any(op in ran for op in ("suspend", "disable", "deactivate"))
        verdict = "not_verified" if locked and not account["locked_out"] else "verified"
        words = f"{system} shows the account {account['state']}"
        return OperationResult(
            Outcome.DONE, words, data={"verdict": verdict, "observed": dict(account)}
        )


_API = (
    "concurrency_limit",
    "okta_get_user",
    "okta_user_groups",
    "okta_user_and_groups",
    "okta_search_users",
    "read_account",
    "read_holdings",
    "run_operation",
)


@pytest.fixture
def fake_registry(monkeypatch) -> FakeRegistry:
    """Replace connections.registry's functions (installing a stand-in module if it is absent)."""
    import connections

    try:
        from connections import registry as module
    except ImportError:
        module = types.ModuleType("connections.registry")
        monkeypatch.setitem(sys.modules, "connections.registry", module)
        monkeypatch.setattr(connections, "registry", module, raising=False)
    fake = FakeRegistry()
    for name in _API:
        monkeypatch.setattr(module, name, getattr(fake, name), raising=False)
    fake.add_user()
    return fake


@dataclass
class TaskQueue:
    """Records async_task calls; `drain` runs them like a worker would (on_commit included)."""

    capture: Callable
    sent: list[tuple[str, tuple]] = field(default_factory=list)

    def __call__(self, func: str, *args: Any) -> None:
        self.sent.append((func, args))

    def step_ids(self) -> list[int]:
        return [args[0] for func, args in self.sent if func.endswith("run_step")]

    def sweep(self, **kwargs: Any) -> Any:
        """One sweeper pass as the scheduled task runs it (its on_commit work included)."""
        with self.capture(execute=True):
            return runner.sweep(**kwargs)

    def run_starts(self) -> None:
        """Run only the queued start tasks; the step tasks they queue stay in `sent`, unrun."""
        starts = [t for t in self.sent if t[0].endswith("start_request")]
        self.sent = [t for t in self.sent if not t[0].endswith("start_request")]
        for _, args in starts:
            with self.capture(execute=True):
                # Not tasks.start_request: that runs the first steps itself (runner.chain) when no
                # transaction is open, as in the transactional tests.
                runner.action_request_start(action_request_id=int(args[0]))

    def drain(self, limit: int = 500) -> int:
        ran = 0
        while self.sent and ran < limit:
            func, args = self.sent.pop(0)
            with self.capture(execute=True):
                getattr(tasks, func.rsplit(".", 1)[1])(*args)
            ran += 1
        return ran


@pytest.fixture
def queue(monkeypatch, settings, django_capture_on_commit_callbacks) -> TaskQueue:
    q = TaskQueue(capture=django_capture_on_commit_callbacks)
    monkeypatch.setattr("offboarding.progress.queue_task", q)
    # The broker's backlog is this queue's, not what another run left in a shared Redis.
    monkeypatch.setattr("offboarding.runner.chain.queue_backlog", lambda: len(q.sent))
    # No other worker reads this queue: a task runs its steps itself whatever the broker (the
    # tests of offering them to other workers turn this on).
    settings.OFFBOARDING_SPREAD_STEPS = False
    return q


@pytest.fixture
def team(helpdesk, approver) -> Group:
    """The service-desk team: helpdesk and approver request for it."""
    group = Group.objects.create(name="Service desk")
    helpdesk.groups.add(group)
    approver.groups.add(group)
    return group


@pytest.fixture
def managers(approver, other_approver) -> Group:
    group = Group.objects.create(name="IT managers")
    approver.groups.add(group)
    other_approver.groups.add(group)
    return group


@pytest.fixture
def delegation(team, managers) -> Delegation:
    return Delegation.objects.create(
        name="Service desk → staff",
        team=team,
        allowed_actions=["reset_sessions", "offboard", "reinstate"],
        target_group_ids=[],
        approver_group=managers,
        approvals_needed=1,
        expiry_hours=24,
    )


@pytest.fixture
def protected() -> ProtectedGroup:
    return ProtectedGroup.objects.create(okta_group_id="00gAdmins", name="Okta administrators")


@pytest.fixture
def make_request(fake_registry, delegation, helpdesk, django_capture_on_commit_callbacks):
    def make(
        kind: str = "offboard",
        *,
        requester=None,
        okta_id: str = "00u1",
        systems=("okta", "google", "msgraph", "zoom"),
        options=None,
        reason: str = "Left the company",
        **extra: Any,
    ) -> ActionRequest:
        with django_capture_on_commit_callbacks(execute=True):
            return request_services.action_request_submit(
                requester=requester or helpdesk,
                target_okta_id=okta_id,
                kind=kind,
                systems=list(systems),
                options=options,
                reason=reason,
                **extra,
            )

    return make


@pytest.fixture
def approve(django_capture_on_commit_callbacks):
    def do(req: ActionRequest, user, **kwargs: Any) -> ActionRequest:
        with django_capture_on_commit_callbacks(execute=True):
            return request_services.action_request_approve(
                action_request_id=req.pk, approver=user, **kwargs
            )

    return do


@pytest.fixture
def approved(make_request, approve, approver, queue):
    """Make and approve a request: it starts at once (the approval's live check is fresh), its
    first steps queued, none run."""

    def make(kind: str = "offboard", **kwargs: Any) -> ActionRequest:
        req = make_request(kind, **kwargs)
        return approve(req, approver)

    return make


@pytest.fixture
def approved_to_start(approved, settings):
    """`approved` with OFFBOARDING_CHECK_REUSE_SECONDS=0: the approval does not start the request
    on its live check; its start task is queued, not yet run, and reads Okta again (as for a
    request approved on an older reading, released by a bulk batch or brought back by the
    sweeper)."""
    settings.OFFBOARDING_CHECK_REUSE_SECONDS = 0
    return approved


@pytest.fixture
def steps() -> Callable[[ActionRequest], dict[str, StepRun]]:
    def get(req: ActionRequest) -> dict[str, StepRun]:
        return {s.key: s for s in StepRun.objects.filter(action_request=req)}

    return get


# --- Break-glass (issue 14): a Responder of the service-desk team, TOTP enrolled -----------------


def enrol_totp(user) -> None:
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


@pytest.fixture
def responder(django_user_model, team):
    from offboarding.roles import Role
    from tests.conftest import _make_user

    user = _make_user(django_user_model, "responder", Role.RESPONDER, first_name="Rory")
    user.groups.add(team)
    enrol_totp(user)
    return user


@pytest.fixture
def run(fake_registry, delegation, responder, django_capture_on_commit_callbacks):
    """Break-glass as the responder, signed in a minute ago, on-commit work run."""
    from datetime import timedelta

    from django.utils import timezone

    def do(kind: str = "reset_sessions", **kwargs):
        args = {
            "responder": responder,
            "target_okta_id": "00u1",
            "kind": kind,
            "systems": ["okta", "google", "msgraph", "zoom"],
            "reason": "Account takeover in progress (INC-9)",
            "authenticated_at": timezone.now() - timedelta(minutes=1),
        }
        args.update(kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            return request_services.action_request_break_glass(**args)

    return do
