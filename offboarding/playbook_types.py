"""The shapes a playbook is made of: options, step specs, planned steps, the playbook itself.

Kept apart from `offboarding.playbooks` (the built-in playbooks and what is done with them) only so
that each module stays short; import these names from `offboarding.playbooks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connections.providers import provider_for
from connections.types import System

ALL_SYSTEMS: tuple[str, ...] = tuple(s.value for s in System)
# Each system's read-back after its other steps (every provider has this operation).
VERIFY_OPERATION = "verify"


@dataclass(frozen=True)
class OptionSpec:
    """A yes/no choice on the request form."""

    key: str
    label: str
    default: bool
    system: str


def option_spec(key: str, words: str, default: bool, system: str) -> OptionSpec:
    """An option labelled with its system's short name, e.g. "Google: sign out everywhere"."""
    return OptionSpec(key, f"{provider_for(system).short_label}: {words}", default, system)


@dataclass(frozen=True)
class StepSpec:
    """One step of a playbook. `gate` names the option that switches it on (None = always)."""

    system: str
    operation: str
    depends_on: tuple[str, ...] = ()
    gate: str | None = None
    # Connector options taken from request options: {connector option: request option}.
    option_map: tuple[tuple[str, str], ...] = ()
    fixed_options: tuple[tuple[str, Any], ...] = ()
    after_all: bool = False
    # Waits for every other chosen step of its own system (a system's verification).
    after_system: bool = False
    label_suffix: str = ""  # words added to the provider's step label

    @property
    def key(self) -> str:
        return f"{self.system}.{self.operation}"

    @property
    def label(self) -> str:
        return provider_for(self.system).step_label(self.operation) + self.label_suffix

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
    after_system: bool = False


@dataclass(frozen=True)
class Playbook:
    kind: str
    label: str
    steps: tuple[StepSpec, ...]
    options: tuple[OptionSpec, ...] = field(default=())

    def option_defaults(self) -> dict[str, bool]:
        return {o.key: o.default for o in self.options}


def verify_spec(system: str, *option_map: tuple[str, str]) -> StepSpec:
    """A system's verification: after its other steps, told which ran (see `build_steps`)."""
    return StepSpec(system, VERIFY_OPERATION, option_map=option_map, after_system=True)
