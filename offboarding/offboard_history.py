"""What this portal's earlier offboard of a person did, read from its steps (issue 13).

Two uses: a reinstate puts back what that offboard removed (the group and app ids its steps
recorded in `StepRun.result`, the accounts it suspended or disabled) and says, per system, what it
cannot put back; a new offboard of the same person shows in its pre-flight that it was done before
("suspended by request #12 on …") and asks for a confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connections.types import System
from offboarding.models import ActionRequest, StepRun

Kind = ActionRequest.Kind
RS = ActionRequest.State
# The states of a request that ran (some steps may have changed something).
RAN = (RS.SUCCEEDED, RS.PARTIALLY_FAILED, RS.FAILED)

# An offboard's lock step → the reinstate step that undoes it, and the words for both.
UNDONE_BY: dict[str, tuple[str, str, str]] = {
    "okta.suspend": ("okta.unsuspend", "suspended", "unsuspend"),
    "google.suspend": ("google.unsuspend", "suspended", "unsuspend"),
    "msgraph.disable": ("msgraph.enable", "disabled", "enable"),
    "zoom.deactivate": ("zoom.activate", "deactivated", "activate"),
}
# A key of an offboard step's result → (reinstate step, its connector option, words).
RESTORED_FROM_RESULT: dict[str, tuple[str, str, str]] = {
    "removed_group_ids": ("okta.restore_groups", "group_ids", "Okta group membership(s)"),
    "removed_app_ids": (
        "okta.restore_apps",
        "app_ids",
        "Okta app assignment(s) (the per-app profiles Okta dropped on unassignment start afresh)",
    ),
}
# What an offboard step did that no API call can undo, in words for the pre-flight.
NOT_RESTORABLE: dict[str, str] = {
    "okta.deactivate": (
        "The Okta user was deactivated: Okta's unsuspend cannot bring them back. Okta's activate "
        "makes the account PROVISIONED with a new activation email, and the apps deprovisioned on "
        "deactivation start afresh: reactivate in Okta's admin console if that is intended."
    ),
    "okta.reset_factors": "Okta authenticators were reset: the person enrols them again.",
    "google.delete_app_passwords": (
        "Google app passwords were deleted: they cannot be restored; the person makes new ones."
    ),
}
_SESSION_WORDS = "Ended sessions and revoked tokens are not restored: the person signs in again."


@dataclass
class RestorePlan:
    """What a reinstate of `offboard` will put back and what it cannot, per system."""

    offboard: ActionRequest | None
    step_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    restores: dict[str, list[str]] = field(default_factory=dict)
    cannot: dict[str, list[str]] = field(default_factory=dict)


def last_offboard(target_okta_id: str) -> ActionRequest | None:
    """The person's latest offboard by this portal that ran, unless a reinstate ran after it."""
    latest = (
        ActionRequest.objects.filter(
            target_okta_id=target_okta_id,
            kind__in=(Kind.OFFBOARD, Kind.REINSTATE),
            state__in=RAN,
        )
        .order_by("-finished_at", "-id")
        .first()
    )
    return latest if latest is not None and latest.kind == Kind.OFFBOARD else None


def _done(offboard: ActionRequest) -> list[StepRun]:
    """The offboard's steps that changed something (not those that found it already done)."""
    return list(
        offboard.steps.filter(status=StepRun.Status.SUCCEEDED, outcome=StepRun.Outcome.DONE)
    )


def _device_words(step: StepRun) -> str | None:
    devices = step.result.get("device_ids") if isinstance(step.result, dict) else None
    if not devices:
        return None
    action = str(step.result.get("action") or "changed")
    return f"{len(devices)} device(s) were {action} by “{step.label}”: that cannot be undone."


def _not_restorable(step: StepRun) -> str | None:
    if step.key in NOT_RESTORABLE:
        return NOT_RESTORABLE[step.key]
    if "backup_codes" in step.operation:
        return "Google backup codes were invalidated: the person generates new ones."
    return _device_words(step)


def restore_plan(offboard: ActionRequest | None) -> RestorePlan:
    """Read the offboard's successful steps: the ids to put back, and what stays undone."""
    plan = RestorePlan(offboard)
    if offboard is None:
        return plan
    sessions_ended: set[str] = set()
    for step in _done(offboard):
        if step.key in UNDONE_BY:
            _, past, verb = UNDONE_BY[step.key]
            plan.restores.setdefault(step.system, []).append(
                f"{verb} the account request #{offboard.pk} {past}"
            )
        for key, (reinstate_key, option, what) in RESTORED_FROM_RESULT.items():
            ids = step.result.get(key) if isinstance(step.result, dict) else None
            if ids:
                chosen = plan.step_options.setdefault(reinstate_key, {}).setdefault(option, [])
                chosen.extend(str(i) for i in ids if str(i) not in chosen)
                plan.restores.setdefault(step.system, []).append(f"put back {len(ids)} {what}")
        words = _not_restorable(step)
        if words:
            plan.cannot.setdefault(step.system, []).append(words)
        elif step.key not in UNDONE_BY and not any(k in step.result for k in RESTORED_FROM_RESULT):
            sessions_ended.add(step.system)
    for system in sessions_ended:
        plan.cannot.setdefault(system, []).append(_SESSION_WORDS)
    return plan


def reinstate_step_options(action_request: ActionRequest) -> dict[str, dict[str, Any]]:
    """Extra connector options per step key for a reinstate's steps (the ids to put back)."""
    if action_request.kind != Kind.REINSTATE or action_request.undoes_id is None:
        return {}
    undone = ActionRequest.objects.get(pk=action_request.undoes_id)
    return restore_plan(undone).step_options


def annotate_reinstate_plan(plan: list[dict[str, Any]], restore: RestorePlan) -> None:
    """Add to each system of a reinstate's pre-flight what will be put back and what cannot."""
    if restore.offboard is None:
        for entry in plan:
            entry.setdefault("notes", []).append(
                "No offboard by this portal to undo: only the account itself is reinstated."
            )
        return
    for entry in plan:
        system = entry["system"]
        notes = entry.setdefault("notes", [])
        restores = restore.restores.get(system)
        notes.append(
            f"Will {'; '.join(restores)}."
            if restores
            else f"Request #{restore.offboard.pk} changed nothing here that can be put back."
        )
        notes.extend(f"Cannot restore: {words}" for words in restore.cannot.get(system, []))


def annotate_repeat_offboard(plan: list[dict[str, Any]], offboard: ActionRequest) -> None:
    """Tell, per system, that the earlier offboard already locked the person there."""
    when = offboard.finished_at.strftime("%Y-%m-%d %H:%M %Z") if offboard.finished_at else ""
    locked = {s.system: UNDONE_BY[s.key][1] for s in _done(offboard) if s.key in UNDONE_BY}
    for entry in plan:
        past = locked.get(entry["system"])
        if past:
            entry.setdefault("notes", []).append(
                f"Already {past} by request #{offboard.pk} on {when}."
            )


def repeat_offboard_words(offboard: ActionRequest) -> str:
    """One sentence for the confirmation a repeat offboard asks for."""
    when = offboard.finished_at.strftime("%Y-%m-%d %H:%M %Z") if offboard.finished_at else ""
    systems = ", ".join(System(s).label for s in offboard.systems if s in System.values)
    return (
        f"This person was already offboarded by request #{offboard.pk} "
        f"({offboard.get_state_display().lower()}, {when}; {systems}). Offboarding again repeats "
        "the steps: most will find their work already done."
    )


def history_annotate(
    *, kind: str, plan: list[dict[str, Any]], target_okta_id: str
) -> ActionRequest | None:
    """Add the earlier offboard's story to a pre-flight plan and return that offboard (the one a
    reinstate undoes, or the one an offboard repeats); None when there is none."""
    if kind not in (Kind.OFFBOARD, Kind.REINSTATE):
        return None
    offboard = last_offboard(target_okta_id)
    if kind == Kind.REINSTATE:
        annotate_reinstate_plan(plan, restore_plan(offboard))
        return offboard
    if offboard is not None:
        annotate_repeat_offboard(plan, offboard)
    return offboard
