"""Playbooks as data: for each action kind, the steps per system and what each step waits for.

Systems run side by side; within a system a lock step comes first and revoke steps follow it.
Options on a request switch optional steps on or off. `build_steps` turns (kind, systems, options)
into step specs, checked to be acyclic; `render_plan` turns them into words for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from connections.providers import Effect, all_providers
from connections.types import System
from offboarding.exceptions import InvalidPlaybook
from offboarding.playbook_types import (  # noqa: F401 (re-exported: the playbooks' own vocabulary)
    ALL_SYSTEMS,
    VERIFY_OPERATION,
    OptionSpec,
    PlannedStep,
    Playbook,
    StepSpec,
)
from offboarding.playbook_types import option_spec as _option
from offboarding.playbook_types import verify_spec as _verify

RESET_SESSIONS = Playbook(
    kind="reset_sessions",
    label="Reset sessions",
    steps=(
        StepSpec(
            "okta",
            "clear_sessions",
            option_map=(
                ("oauth_tokens", "okta_oauth_tokens"),
                ("forget_devices", "okta_forget_devices"),
            ),
        ),
        StepSpec("google", "sign_out"),
        StepSpec("zoom", "revoke_token"),
        StepSpec("msgraph", "revoke_sessions"),
        *(_verify(system) for system in ALL_SYSTEMS),
    ),
    options=(
        _option("okta_oauth_tokens", "revoke OAuth/OIDC tokens too", True, "okta"),
        _option("okta_forget_devices", "forget remembered devices", True, "okta"),
    ),
)

OFFBOARD = Playbook(
    kind="offboard",
    label="Offboard",
    steps=(
        StepSpec("okta", "suspend"),
        StepSpec(
            "okta",
            "clear_sessions",
            depends_on=("okta.suspend",),
            gate="okta_clear_sessions",
            fixed_options=(("oauth_tokens", True),),
            option_map=(("forget_devices", "okta_forget_devices"),),
            label_suffix=" and OAuth tokens",
        ),
        StepSpec("okta", "reset_factors", ("okta.suspend",), "okta_reset_factors"),
        StepSpec("okta", "remove_from_groups", ("okta.suspend",), "okta_remove_from_groups"),
        StepSpec("okta", "revoke_grants", ("okta.suspend",), "okta_revoke_grants"),
        StepSpec("okta", "unassign_apps", ("okta.suspend",), "okta_unassign_apps"),
        StepSpec(
            "okta",
            "lock_devices",
            ("okta.suspend",),
            "okta_lock_devices",
            option_map=(("deactivate", "okta_deactivate_devices"),),
        ),
        _verify("okta", ("deactivate_devices", "okta_deactivate_devices")),
        StepSpec("google", "suspend"),
        StepSpec("google", "sign_out", ("google.suspend",), "google_sign_out"),
        StepSpec(
            "google", "revoke_oauth_tokens", ("google.suspend",), "google_revoke_oauth_tokens"
        ),
        StepSpec(
            "google", "delete_app_passwords", ("google.suspend",), "google_delete_app_passwords"
        ),
        StepSpec(
            "google",
            "invalidate_backup_codes",
            ("google.suspend",),
            "google_invalidate_backup_codes",
        ),
        StepSpec(
            "google",
            "mobile_devices",
            ("google.suspend",),
            "google_mobile_devices",
            option_map=(("block_only", "google_mobile_block_only"),),
        ),
        _verify("google", ("block_only", "google_mobile_block_only")),
        StepSpec("msgraph", "disable"),
        StepSpec("msgraph", "revoke_sessions", ("msgraph.disable",), "msgraph_revoke_sessions"),
        StepSpec("msgraph", "disable_devices", ("msgraph.disable",), "msgraph_disable_devices"),
        _verify("msgraph"),
        StepSpec("zoom", "deactivate"),
        StepSpec("zoom", "revoke_token", ("zoom.deactivate",), "zoom_revoke_token"),
        _verify("zoom"),
        StepSpec(
            "okta",
            "deactivate",
            gate="okta_deactivate",
            after_all=True,
            option_map=(("send_email", "okta_deactivate_send_email"),),
        ),
    ),
    options=(
        _option("okta_clear_sessions", "clear sessions and OAuth tokens", True, "okta"),
        _option("okta_forget_devices", "forget remembered devices", True, "okta"),
        _option("okta_reset_factors", "reset authenticators", True, "okta"),
        _option("okta_remove_from_groups", "remove from groups", True, "okta"),
        _option("okta_revoke_grants", "revoke app grants", True, "okta"),
        _option("okta_unassign_apps", "unassign directly assigned apps", True, "okta"),
        _option("okta_lock_devices", "suspend registered devices", True, "okta"),
        _option(
            "okta_deactivate_devices",
            "deactivate devices once suspended (irreversible)",
            True,
            "okta",
        ),
        _option("google_sign_out", "sign out everywhere", True, "google"),
        _option("google_revoke_oauth_tokens", "revoke OAuth tokens", True, "google"),
        _option("google_delete_app_passwords", "delete app passwords", True, "google"),
        _option("google_invalidate_backup_codes", "invalidate backup codes", True, "google"),
        _option("google_mobile_devices", "wipe the account from mobile devices", True, "google"),
        _option(
            "google_mobile_block_only", "block mobile devices instead of wiping", False, "google"
        ),
        _option("msgraph_revoke_sessions", "revoke sessions", True, "msgraph"),
        _option("msgraph_disable_devices", "disable registered devices", True, "msgraph"),
        _option("zoom_revoke_token", "revoke SSO token", True, "zoom"),
        _option("okta_deactivate", "deactivate last (irreversible)", False, "okta"),
        _option("okta_deactivate_send_email", "email the admins on deactivate", False, "okta"),
    ),
)

# Issue 13: reinstate undoes the person's last offboard by this portal. The ids of the groups and
# apps to put back are that offboard's step results, added to these steps' options when the steps
# are created (offboarding/reinstate.py): they are not choices on the form.
REINSTATE = Playbook(
    kind="reinstate",
    label="Reinstate",
    steps=(
        StepSpec("okta", "unsuspend"),
        StepSpec("okta", "restore_groups", ("okta.unsuspend",), "okta_restore_groups"),
        StepSpec("okta", "restore_apps", ("okta.unsuspend",), "okta_restore_apps"),
        StepSpec("google", "unsuspend"),
        StepSpec("msgraph", "enable"),
        StepSpec("zoom", "activate"),
    ),
    options=(
        _option("okta_restore_groups", "add back to the groups the offboard removed", True, "okta"),
        _option("okta_restore_apps", "assign again the apps the offboard unassigned", True, "okta"),
    ),
)

PLAYBOOKS: dict[str, Playbook] = {p.kind: p for p in (RESET_SESSIONS, OFFBOARD, REINSTATE)}


def _operations_that(effect: Effect) -> frozenset[tuple[str, str]]:
    return frozenset(
        (provider.system.value, operation.name)
        for provider in all_providers()
        for operation in provider.operations
        if operation.effect is effect
    )


# How a probe (a live read of the account) tells that a step's effect is already there.
# Only state-changing steps are probed; revoking sessions or tokens twice is harmless.
LOCKING_OPERATIONS = _operations_that(Effect.LOCK)
UNLOCKING_OPERATIONS = _operations_that(Effect.UNLOCK)
DEACTIVATING_OPERATIONS = _operations_that(Effect.DEACTIVATE)

# Which step locks a person out of each system, per action kind: the steps an offboard or a reset
# sessions starts at once (an offboard's first lock step, a reset sessions' revoke step).
LOCKOUT_STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    playbook.kind: tuple(
        (s.system, s.operation)
        for s in playbook.steps
        if not s.depends_on and not s.after_all and not s.after_system
    )
    for playbook in (OFFBOARD, RESET_SESSIONS)
}


# Break-glass (issue 14): what a Responder may run at once, before anyone approves. Reset sessions
# as the form says (it only ends sessions); an offboard only as its lock steps (every optional
# step off: no revokes, resets or group removals, and never the irreversible Okta deactivate), so
# that a reinstate undoes all of it. The full offboard is then asked for the usual way.
BREAK_GLASS_KINDS: tuple[str, ...] = (RESET_SESSIONS.kind, OFFBOARD.kind)
BREAK_GLASS_NOTE: dict[str, str] = {
    RESET_SESSIONS.kind: "Break-glass runs reset sessions as chosen, at once.",
    OFFBOARD.kind: (
        "Break-glass runs only the lock steps of an offboard (suspend, disable, deactivate the "
        "Zoom user), at once: no revokes, no group removals, never the irreversible Okta "
        "deactivate. A reinstate undoes them; ask for the full offboard the usual way."
    ),
}


def break_glass_options(kind: str, options: dict[str, Any] | None) -> dict[str, bool]:
    """The options a break-glass run of `kind` uses; refuses a kind or step it may not run."""
    if kind not in BREAK_GLASS_KINDS:
        label = get_playbook(kind).label.lower()
        raise InvalidPlaybook(f"Break-glass cannot run {label}: ask for it the usual way.")
    if kind == RESET_SESSIONS.kind:
        return normalise_options(kind, options)
    chosen = normalise_options(
        kind, {k: False for k in OFFBOARD.option_defaults()} | (options or {})
    )
    switched_on = [o.label for o in OFFBOARD.options if chosen[o.key]]
    if switched_on:
        raise InvalidPlaybook(
            "Break-glass runs only an offboard's lock steps, not: " + "; ".join(switched_on) + "."
        )
    return chosen


# Issue 17: a kind that is not built in may name a custom playbook (an imported Arazzo document,
# stored in the database). OffboardingConfig.ready points this hook at
# offboarding.arazzo.registry.custom_playbook; this module stays free of the database.
def _no_custom_playbooks(kind: str) -> Playbook | None:
    return None


_custom_lookup: Callable[[str], Playbook | None] = _no_custom_playbooks


def set_custom_lookup(lookup: Callable[[str], Playbook | None]) -> None:
    global _custom_lookup
    _custom_lookup = lookup


def find_playbook(kind: str) -> Playbook | None:
    return PLAYBOOKS.get(kind) or (_custom_lookup(kind) if kind else None)


def is_kind(kind: str) -> bool:
    """A built-in action or a saved custom playbook version."""
    return find_playbook(str(kind)) is not None


def kind_label(kind: str) -> str:
    found = find_playbook(str(kind))
    return found.label if found is not None else str(kind)


def get_playbook(kind: str) -> Playbook:
    found = find_playbook(kind)
    if found is None:
        raise InvalidPlaybook(f"There is no playbook for “{kind}”.")
    return found


def normalise_options(kind: str, options: dict[str, Any] | None) -> dict[str, bool]:
    """Defaults filled in, unknown keys refused, values made booleans."""
    return _normalised(get_playbook(kind), options)


def _normalised(playbook: Playbook, options: dict[str, Any] | None) -> dict[str, bool]:
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
    return plan_steps(get_playbook(kind), systems=systems, options=options)


def plan_steps(
    playbook: Playbook, *, systems: Iterable[str], options: dict[str, Any] | None
) -> list[PlannedStep]:
    """`build_steps` for a playbook object (a custom one being previewed before it is saved)."""
    chosen = set(normalise_systems(systems))
    opts = _normalised(playbook, options)
    specs = [
        s for s in playbook.steps if s.system in chosen and (s.gate is None or opts.get(s.gate))
    ]
    keys = {s.key for s in specs}
    planned = []
    for position, spec in enumerate(specs):
        ran: dict[str, bool] = {}
        if spec.after_all:
            deps = tuple(k for k in (s.key for s in specs) if k != spec.key)
        elif spec.after_system:
            # It waits for the system's other steps, and its options name them (each true), so
            # the read-back looks only for what those steps should have left behind.
            deps = tuple(s.key for s in specs if _same_system(s, spec))
            ran = {s.operation: True for s in specs if _same_system(s, spec)}
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
                options={**spec.connector_options(opts), **ran},
                depends_on=deps,
                after_all=spec.after_all,
                position=position,
                after_system=spec.after_system,
            )
        )
    check_acyclic(planned)
    return planned


def _same_system(step: StepSpec, verification: StepSpec) -> bool:
    return step.system == verification.system and step is not verification and not step.after_all


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
    label = System(system).label if system in ALL_SYSTEMS else system
    return f"{label} {operation.replace('_', ' ')}"


def render_plan(steps: Sequence[PlannedStep]) -> list[dict[str, Any]]:
    """Systems → ordered steps, each with what it waits for in words."""
    by_system: dict[str, list[dict[str, Any]]] = {}
    for s in steps:
        if s.after_all:
            after = "after every other step succeeded"
        elif s.after_system:
            after = "after the other steps here, reading the account back"
        elif s.depends_on:
            after = "after " + ", ".join(step_label(d, steps) for d in s.depends_on)
        else:
            after = "at once"
        by_system.setdefault(s.system, []).append(
            {"key": s.key, "label": s.label, "after": after, "operation": s.operation}
        )
    return [
        {"system": system, "label": System(system).label, "steps": items}
        for system, items in by_system.items()
    ]
