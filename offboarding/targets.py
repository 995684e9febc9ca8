"""Live Okta reads for a target, delegation scope, protected groups and the pre-flight plan.

Below the services and the runner, both of which check scope and protection against live Okta.
Everything here reads outside systems: never call it while holding a transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from connections import registry
from connections.types import SYSTEM_LABELS, ConnectorError, System, Target
from offboarding import playbooks
from offboarding.audit_display import state_words
from offboarding.exceptions import OutOfScope, ProtectedTarget, TargetLookupFailed
from offboarding.models import Delegation, ProtectedGroup

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TargetInfo:
    """The person as live Okta describes them now, with the ids of their groups."""

    okta_id: str
    login: str
    email: str
    name: str
    status: str
    profile: dict[str, Any]
    groups: dict[str, str] = field(default_factory=dict)  # id → name
    last_login: str = ""  # ISO time of the last Okta sign-in, "" when never (issue 16)

    @property
    def group_ids(self) -> frozenset[str]:
        return frozenset(self.groups)

    def as_target(self) -> Target:
        return Target(
            okta_id=self.okta_id,
            login=self.login,
            email=self.email,
            first_name=str(self.profile.get("firstName", "")),
            last_name=str(self.profile.get("lastName", "")),
            profile=dict(self.profile),
        )


def target_lookup(okta_id: str) -> TargetInfo:
    """Read the user and their groups from Okta. Raises TargetLookupFailed in words."""
    try:
        user, groups = registry.okta_user_and_groups(okta_id)  # side by side given an id
    except ConnectorError as exc:
        if exc.status == 404 or exc.code == "E0000007":
            raise TargetLookupFailed(f"Okta has no user “{okta_id}”.", retryable=False) from exc
        if exc.code == "bad_id":  # not an id at all ("." or ".."): said in words, never sent
            raise TargetLookupFailed(exc.message, retryable=False) from exc
        raise TargetLookupFailed(
            f"Okta could not be read to check the target: {exc.message}", retryable=exc.retryable
        ) from exc
    profile = dict(user.get("profile") or {})
    name = " ".join(p for p in (profile.get("firstName"), profile.get("lastName")) if p)
    return TargetInfo(
        okta_id=str(user["id"]),
        login=str(profile.get("login", "")),
        email=str(profile.get("email", "")),
        name=name,
        status=str(user.get("status", "")),
        profile=profile,
        last_login=str(user.get("lastLogin") or ""),
        groups={
            str(g["id"]): str(g.get("name") or g.get("profile", {}).get("name", "")) for g in groups
        },
    )


def live_check_record(target: TargetInfo, *, at: datetime, fingerprint: str) -> dict[str, Any]:
    """What a live check saw, to store on the request (`ActionRequest.live_check`)."""
    return {
        "at": at.isoformat(),
        "fingerprint": fingerprint,
        "okta_id": target.okta_id,
        "login": target.login,
        "status": target.status,
        "groups": dict(target.groups),
    }


def protection_check(target: TargetInfo) -> None:
    """Refuse a member of a protected Okta group, naming the group."""
    hit = ProtectedGroup.objects.filter(okta_group_id__in=target.group_ids).first()
    if hit is not None:
        raise ProtectedTarget(
            f"{target.login} is a member of the protected group “{hit}”: "
            "the portal never acts on protected users."
        )


def delegation_candidates(user: User) -> list[Delegation]:
    """The active delegations of the user's teams (read once for many targets)."""
    return list(
        Delegation.objects.filter(active=True, team__in=user.groups.all()).select_related(
            "approver_group", "team"
        )
    )


def delegations_for(
    *, user: User, kind: str, target: TargetInfo, candidates: list[Delegation] | None = None
) -> list[Delegation]:
    """Active delegations of the user's teams that allow `kind` for this target."""
    if candidates is None:
        candidates = delegation_candidates(user)
    return [
        d
        for d in candidates
        if kind in (d.allowed_actions or [])
        and (not d.target_group_ids or set(d.target_group_ids) & target.group_ids)
    ]


def delegation_for(
    *, user: User, kind: str, target: TargetInfo, candidates: list[Delegation] | None = None
) -> Delegation:
    """The strictest matching delegation (most approvals, no auto-run). Raises OutOfScope."""
    matching = delegations_for(user=user, kind=kind, target=target, candidates=candidates)
    if not matching:
        label = playbooks.kind_label(kind).lower()
        raise OutOfScope(
            f"No delegation lets your team request {label} for {target.login or target.okta_id}."
        )
    return max(
        matching,
        key=lambda d: (d.approvals_needed, not d.reset_sessions_without_approval, -d.pk),
    )


def scope_check(*, user: User, kind: str, target: TargetInfo) -> Delegation:
    """Protection first (it wins over every delegation), then scope."""
    protection_check(target)
    return delegation_for(user=user, kind=kind, target=target)


def _system_plan(system: str, steps: list[playbooks.PlannedStep], target: Target) -> dict[str, Any]:
    label = SYSTEM_LABELS[System(system)]
    entry: dict[str, Any] = {
        "system": system,
        "label": label,
        "steps": [{"key": s.key, "label": s.label} for s in steps],
    }
    try:
        state = registry.read_account(System(system), target=target)
    except ConnectorError as exc:
        entry.update(exists=None, state="", summary=f"could not read {label}: {exc.message}")
        return entry
    except Exception:  # a broken connector must not block the plan; the run will say more
        logger.exception("pre-flight read failed for %s", system)
        entry.update(exists=None, state="", summary=f"could not read {label}")
        return entry
    entry.update(exists=state.exists, state=state.state, locked_out=state.locked_out)
    if not state.exists:
        entry["summary"] = f"no {label} account: will skip"
    else:
        counts = _holdings(system, steps, target)
        # Only the verb is lower-cased: product names keep their capitals ("revoke the Zoom SSO token").
        words = ", ".join(
            s.label[:1].lower()
            + s.label[1:]
            + (f" ({counts[s.operation]})" if s.operation in counts else "")
            for s in steps
        )
        already = " (already locked)" if state.locked_out else ""
        said = state_words(state.state) if state.state else "Account found"
        entry["summary"] = f"{said}{already}: will {words}"
        if state.detail:
            entry["warning"] = state.detail
    return entry


def _holdings(system: str, steps: list[playbooks.PlannedStep], target: Target) -> dict[str, str]:
    """What the removing steps would remove ("6 apps"); nothing when it cannot be read."""
    try:
        return registry.read_holdings(
            System(system), target=target, operations=frozenset(s.operation for s in steps)
        )
    except ConnectorError:
        return {}  # the plan still stands; the step will say what it found


def preflight_plan(
    *, kind: str, systems: list[str], options: dict[str, Any] | None, target: Target
) -> list[dict[str, Any]]:
    """For each chosen system: whether the person has an account, its state, and the steps."""
    steps = playbooks.build_steps(kind, systems=systems, options=options)
    by_system: dict[str, list[playbooks.PlannedStep]] = {}
    for s in steps:
        by_system.setdefault(s.system, []).append(s)
    # One order of systems everywhere (the form's checkboxes, the plan, the cards): System's.
    ordered = [s for s in playbooks.ALL_SYSTEMS if s in by_system]
    return [_system_plan(system, by_system[system], target) for system in ordered]
