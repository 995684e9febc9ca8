"""Playbooks as data: for each action kind, the steps per system and what each step waits for.

Systems run side by side; within a system a lock step comes first and revoke steps follow it.
Options on a request switch optional steps on or off. `build_steps` turns (kind, systems, options)
into step specs, checked to be acyclic; `render_plan` turns them into words for a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connections.types import SYSTEM_LABELS, System
from offboarding.exceptions import InvalidPlaybook

ALL_SYSTEMS: tuple[str, ...] = tuple(s.value for s in System)


@dataclass(frozen=True)
class OptionSpec:
    """A yes/no choice on the request form."""

    key: str
    label: str
    default: bool
    system: str


@dataclass(frozen=True)
class StepSpec:
    """One step of a playbook. `gate` names the option that switches it on (None = always)."""

    system: str
    operation: str
    label: str
    depends_on: tuple[str, ...] = ()
    gate: str | None = None
    # Connector options taken from request options: {connector option: request option}.
    option_map: tuple[tuple[str, str], ...] = ()
    fixed_options: tuple[tuple[str, Any], ...] = ()
    after_all: bool = False

    @property
    def key(self) -> str:
        return f"{self.system}.{self.operation}"

    def connector_options(self, options: dict[str, Any]) -> dict[str, Any]:
        result = dict(self.fixed_options)
        for connector_key, option_key in self.option_map:
            result[connector_key] = bool(options.get(option_key))
        return result


@dataclass(frozen=True)
class PlannedStep:
    """A step as it will be created for one request."""

    key: str
    system: str
    operation: str
    label: str
    options: dict[str, Any]
    depends_on: tuple[str, ...]
    after_all: bool = False
    position: int = 0


@dataclass(frozen=True)
class Playbook:
    kind: str
    label: str
    steps: tuple[StepSpec, ...]
    options: tuple[OptionSpec, ...] = field(default=())

    def option_defaults(self) -> dict[str, bool]:
        return {o.key: o.default for o in self.options}


_O = OptionSpec

RESET_SESSIONS = Playbook(
    kind="reset_sessions",
    label="Reset sessions",
    steps=(
        StepSpec(
            "okta",
            "clear_sessions",
            "Clear Okta sessions",
            option_map=(
                ("oauth_tokens", "okta_oauth_tokens"),
                ("forget_devices", "okta_forget_devices"),
            ),
        ),
        StepSpec("google", "sign_out", "Sign out of Google"),
        StepSpec("zoom", "revoke_token", "Revoke the Zoom SSO token"),
        StepSpec("msgraph", "revoke_sessions", "Revoke Microsoft 365 sign-in sessions"),
    ),
    options=(
        _O("okta_oauth_tokens", "Okta: revoke OAuth/OIDC tokens too", True, "okta"),
        _O("okta_forget_devices", "Okta: forget remembered devices", False, "okta"),
    ),
)

OFFBOARD = Playbook(
    kind="offboard",
    label="Offboard",
    steps=(
        StepSpec("okta", "suspend", "Suspend in Okta"),
        StepSpec(
            "okta",
            "clear_sessions",
            "Clear Okta sessions and OAuth tokens",
            depends_on=("okta.suspend",),
            gate="okta_clear_sessions",
            fixed_options=(("oauth_tokens", True),),
            option_map=(("forget_devices", "okta_forget_devices"),),
        ),
        StepSpec(
            "okta",
            "reset_factors",
            "Reset Okta authenticators",
            depends_on=("okta.suspend",),
            gate="okta_reset_factors",
        ),
        StepSpec(
            "okta",
            "remove_from_groups",
            "Remove from Okta groups",
            depends_on=("okta.suspend",),
            gate="okta_remove_from_groups",
        ),
        StepSpec(
            "okta",
            "revoke_grants",
            "Revoke Okta app grants",
            depends_on=("okta.suspend",),
            gate="okta_revoke_grants",
        ),
        StepSpec("google", "suspend", "Suspend in Google Workspace"),
        StepSpec(
            "google", "sign_out", "Sign out of Google", ("google.suspend",), "google_sign_out"
        ),
        StepSpec(
            "google",
            "revoke_oauth_tokens",
            "Revoke Google OAuth tokens",
            ("google.suspend",),
            "google_revoke_oauth_tokens",
        ),
        StepSpec(
            "google",
            "delete_app_passwords",
            "Delete Google app passwords",
            ("google.suspend",),
            "google_delete_app_passwords",
        ),
        StepSpec("msgraph", "disable", "Disable the Microsoft 365 account"),
        StepSpec(
            "msgraph",
            "revoke_sessions",
            "Revoke Microsoft 365 sign-in sessions",
            ("msgraph.disable",),
            "msgraph_revoke_sessions",
        ),
        StepSpec("zoom", "deactivate", "Deactivate in Zoom"),
        StepSpec(
            "zoom",
            "revoke_token",
            "Revoke the Zoom SSO token",
            ("zoom.deactivate",),
            "zoom_revoke_token",
        ),
        StepSpec(
            "okta",
            "deactivate",
            "Deactivate in Okta (irreversible)",
            gate="okta_deactivate",
            after_all=True,
        ),
    ),
    options=(
        _O("okta_clear_sessions", "Okta: clear sessions and OAuth tokens", True, "okta"),
        _O("okta_forget_devices", "Okta: forget remembered devices", False, "okta"),
        _O("okta_reset_factors", "Okta: reset authenticators", True, "okta"),
        _O("okta_remove_from_groups", "Okta: remove from groups", True, "okta"),
        _O("okta_revoke_grants", "Okta: revoke app grants", True, "okta"),
        _O("google_sign_out", "Google: sign out everywhere", True, "google"),
        _O("google_revoke_oauth_tokens", "Google: revoke OAuth tokens", True, "google"),
        _O("google_delete_app_passwords", "Google: delete app passwords", True, "google"),
        _O("msgraph_revoke_sessions", "Microsoft 365: revoke sessions", True, "msgraph"),
        _O("zoom_revoke_token", "Zoom: revoke SSO token", True, "zoom"),
        _O("okta_deactivate", "Okta: deactivate last (irreversible)", False, "okta"),
    ),
)

REINSTATE = Playbook(
    kind="reinstate",
    label="Reinstate",
    steps=(
        StepSpec("okta", "unsuspend", "Unsuspend in Okta"),
        StepSpec("google", "unsuspend", "Unsuspend in Google Workspace"),
        StepSpec("msgraph", "enable", "Enable the Microsoft 365 account"),
        StepSpec("zoom", "activate", "Activate in Zoom"),
    ),
)

PLAYBOOKS: dict[str, Playbook] = {p.kind: p for p in (RESET_SESSIONS, OFFBOARD, REINSTATE)}

# How a probe (a live read of the account) tells that a step's effect is already there.
# Only state-changing steps are probed; revoking sessions or tokens twice is harmless.
LOCKING_OPERATIONS = {
    ("okta", "suspend"),
    ("google", "suspend"),
    ("msgraph", "disable"),
    ("zoom", "deactivate"),
}
UNLOCKING_OPERATIONS = {
    ("okta", "unsuspend"),
    ("google", "unsuspend"),
    ("msgraph", "enable"),
    ("zoom", "activate"),
}
DEACTIVATING_OPERATIONS = {("okta", "deactivate")}


def get_playbook(kind: str) -> Playbook:
    try:
        return PLAYBOOKS[kind]
    except KeyError:
        raise InvalidPlaybook(f"There is no playbook for “{kind}”.") from None


def normalise_options(kind: str, options: dict[str, Any] | None) -> dict[str, bool]:
    """Defaults filled in, unknown keys refused, values made booleans."""
    playbook = get_playbook(kind)
    defaults = playbook.option_defaults()
    unknown = set(options or {}) - set(defaults)
    if unknown:
        raise InvalidPlaybook(
            f"Unknown options for {playbook.label}: {', '.join(sorted(unknown))}."
        )
    return {**defaults, **{k: bool(v) for k, v in (options or {}).items()}}


def normalise_systems(systems: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(s) for s in systems))
    unknown = [s for s in chosen if s not in ALL_SYSTEMS]
    if unknown:
        raise InvalidPlaybook(f"Unknown systems: {', '.join(unknown)}.")
    if not chosen:
        raise InvalidPlaybook("Choose at least one system.")
    return [s for s in ALL_SYSTEMS if s in chosen]


def build_steps(
    kind: str, *, systems: Iterable[str], options: dict[str, Any] | None
) -> list[PlannedStep]:
    """The steps for one request, dependencies limited to steps that exist, checked acyclic."""
    playbook = get_playbook(kind)
    chosen = set(normalise_systems(systems))
    opts = normalise_options(kind, options)
    specs = [
        s for s in playbook.steps if s.system in chosen and (s.gate is None or opts.get(s.gate))
    ]
    keys = {s.key for s in specs}
    planned = []
    for position, spec in enumerate(specs):
        if spec.after_all:
            deps = tuple(k for k in (s.key for s in specs) if k != spec.key)
        else:
            missing = [d for d in spec.depends_on if d not in keys]
            if missing:
                raise InvalidPlaybook(
                    f"{spec.label} needs {', '.join(missing)}, which is not chosen."
                )
            deps = spec.depends_on
        planned.append(
            PlannedStep(
                key=spec.key,
                system=spec.system,
                operation=spec.operation,
                label=spec.label,
                options=spec.connector_options(opts),
                depends_on=deps,
                after_all=spec.after_all,
                position=position,
            )
        )
    check_acyclic(planned)
    return planned


def check_acyclic(steps: Sequence[PlannedStep]) -> None:
    """Refuse a plan in which a step waits, directly or not, for itself."""
    graph = {s.key: set(s.depends_on) for s in steps}
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(key: str, path: tuple[str, ...]) -> None:
        if key in done:
            return
        if key in visiting:
            raise InvalidPlaybook(f"The plan has a cycle: {' → '.join((*path, key))}.")
        visiting.add(key)
        for dep in graph.get(key, ()):
            if dep not in graph:
                raise InvalidPlaybook(f"{key} waits for {dep}, which is not in the plan.")
            visit(dep, (*path, key))
        visiting.discard(key)
        done.add(key)

    for key in graph:
        visit(key, ())


def step_label(key: str, steps: Sequence[PlannedStep] | None = None) -> str:
    """'okta.suspend' → 'Okta suspend' (or the step's own label when known)."""
    for s in steps or ():
        if s.key == key:
            return s.label
    system, _, operation = key.partition(".")
    label = SYSTEM_LABELS.get(System(system), system) if system in ALL_SYSTEMS else system
    return f"{label} {operation.replace('_', ' ')}"


def render_plan(steps: Sequence[PlannedStep]) -> list[dict[str, Any]]:
    """Systems → ordered steps, each with what it waits for in words."""
    by_system: dict[str, list[dict[str, Any]]] = {}
    for s in steps:
        if s.after_all:
            after = "after every other step succeeded"
        elif s.depends_on:
            after = "after " + ", ".join(step_label(d, steps) for d in s.depends_on)
        else:
            after = "at once"
        by_system.setdefault(s.system, []).append(
            {"key": s.key, "label": s.label, "after": after, "operation": s.operation}
        )
    return [
        {"system": system, "label": SYSTEM_LABELS[System(system)], "steps": items}
        for system, items in by_system.items()
    ]


def plan_text(steps: Sequence[PlannedStep]) -> str:
    lines = []
    for system in render_plan(steps):
        lines.append(f"{system['label']}:")
        lines.extend(f"  - {s['label']} ({s['after']})" for s in system["steps"])
    return "\n".join(lines)
