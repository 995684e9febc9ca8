"""Stored custom playbooks as `playbooks.Playbook` objects, found by their kind.

A custom playbook's version is immutable once saved and its kind is random (`pb_<hex>_v<n>`,
never reused), so what a kind stands for never changes: found ones are cached for the life of the
process. `playbooks.get_playbook` asks here (through the hook set in
`OffboardingConfig.ready`) for any kind that is not built in.
"""

from __future__ import annotations

import secrets
from typing import Any

from offboarding.playbooks import OptionSpec, Playbook, StepSpec

CUSTOM_PREFIX = "pb_"
_FOUND: dict[str, Playbook] = {}


def new_kind(number: int) -> str:
    """A fresh kind for version `number` of a custom playbook (at most 20 characters)."""
    return f"{CUSTOM_PREFIX}{secrets.token_hex(4)}_v{number}"


def playbook_from(
    *, kind: str, label: str, steps: list[dict[str, Any]], options: list[dict[str, Any]]
) -> Playbook:
    """The Playbook a stored (or previewed) import describes."""
    return Playbook(
        kind=kind,
        label=label,
        steps=tuple(
            StepSpec(
                s["system"],
                s["operation"],
                depends_on=tuple(s.get("depends_on") or ()),
                option_map=tuple((c, o) for c, o in s.get("option_map") or ()),
                fixed_options=tuple((c, v) for c, v in s.get("fixed_options") or ()),
                after_all=bool(s.get("after_all")),
                after_system=bool(s.get("after_system")),
            )
            for s in steps
        ),
        options=tuple(
            OptionSpec(o["key"], o["label"], bool(o["default"]), o["system"]) for o in options
        ),
    )


def custom_playbook(kind: str) -> Playbook | None:
    """The custom playbook version with this kind, or None (not custom, or no such version)."""
    if not kind.startswith(CUSTOM_PREFIX):
        return None
    if kind in _FOUND:
        return _FOUND[kind]
    from offboarding.models import CustomPlaybookVersion

    version = CustomPlaybookVersion.objects.select_related("playbook").filter(kind=kind).first()
    if version is None:
        return None
    found = playbook_from(
        kind=kind, label=version.label, steps=version.steps, options=version.options
    )
    _FOUND[kind] = found
    return found
