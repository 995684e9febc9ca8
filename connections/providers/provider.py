"""What one system is to the portal: its client, operations, connection form, defaults and hosts.

Each package connections/providers/<system>/ builds one `Provider` from these types; the rest of
the portal (registry, services, forms, URL policy, playbooks) only reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from connections.types import OperationResult, System

if TYPE_CHECKING:
    from connections.forms import ConnectionForm
    from connections.providers.http import ProviderClient

# (client, the person's account key in that system, connector options) -> what it did.
Runner = Callable[[Any, str, Mapping[str, Any]], OperationResult]
# (client, account key, the operations planned) -> {operation: what it would remove, in words}.
HoldingsReader = Callable[[Any, str, frozenset[str]], dict[str, str]]


class Effect(StrEnum):
    """What an operation does to the account, so that a live read can tell it is already there."""

    LOCK = "lock"  # no new sign-in (suspend, disable, deactivate a Zoom user)
    UNLOCK = "unlock"  # sign-in allowed again
    DEACTIVATE = "deactivate"  # irreversible close of the account
    OTHER = "other"  # revoking sessions or tokens: harmless to repeat, nothing to probe


@dataclass(frozen=True)
class Operation:
    """One thing the portal can do to a person's account in one system."""

    name: str  # the key in playbooks and step rows, e.g. "suspend"
    label: str  # words for a step, e.g. "Suspend in Okta"
    run: Runner
    effect: Effect = Effect.OTHER
    # Calls made one after another when there is something to act on (a list, then its removals
    # side by side: 2). The runner starts the longest of a set of ready steps first and, until it
    # has timed an operation itself, takes this as its guess (runner.timings.longest_first).
    rounds: int = 1


@dataclass(frozen=True)
class Defaults:
    """The provider's own production URLs and how many calls may run at once."""

    api_base_url: str = ""
    token_url: str = ""  # may hold "{tenant}", filled from the tenant_id setting
    max_concurrency: int = 5


@dataclass(frozen=True)
class Hosts:
    """The host names outbound calls may reach (checked on save and before each call)."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # any one DNS label under these, e.g. acme.okta.com
    hint: str = ""  # what to type instead, when a host is refused; default: the names


@dataclass(frozen=True)
class Endpoints:
    api_base_url: str
    token_url: str


@dataclass(frozen=True)
class Provider:
    """Everything the portal knows about one system."""

    system: System
    short_label: str  # in option labels, e.g. "Google: sign out everywhere"
    client_class: type[ProviderClient]
    form_class: type[ConnectionForm]
    operations: tuple[Operation, ...]
    identity_attribute: str  # the Okta profile attribute that finds the account, by default
    hosts: Hosts
    required_settings: tuple[str, ...]
    # Secret values needed before the connection can be enabled, per auth mode ("": any mode).
    required_secrets: Mapping[str, tuple[str, ...]]
    defaults: Defaults = Defaults()
    # When the URLs derive from an org URL (Okta): (API path, token path) under it.
    org_paths: tuple[str, str] | None = None
    # Secret values the portal makes itself: (settings, secret so far) -> values to add (Okta's
    # DPoP key pair, made when a connection that uses DPoP has none).
    make_secrets: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None
    # For the pre-flight plan: what the removing steps would remove ("6 apps"), read live.
    holdings: HoldingsReader | None = None

    @property
    def label(self) -> str:
        return self.system.label

    @property
    def setting_keys(self) -> tuple[str, ...]:
        """The non-secret settings of this system (those its form edits)."""
        return self.form_class.SETTING_FIELDS

    def operation(self, name: str) -> Operation | None:
        return next((op for op in self.operations if op.name == name), None)

    def step_label(self, name: str) -> str:
        """The words for a step running this operation (KeyError for an unknown one)."""
        operation = self.operation(name)
        if operation is None:
            raise KeyError(f"{self.label} has no operation “{name}”.")
        return operation.label

    def secrets_needed(self, settings: Mapping[str, Any]) -> tuple[str, ...]:
        mode = str(settings.get("auth_mode") or "")
        return self.required_secrets.get(mode, self.required_secrets.get("", ()))

    def endpoints(self, settings: Mapping[str, Any]) -> Endpoints:
        """The API base and token URLs a connection's settings lead to (defaults filled in)."""
        api = settings.get("api_base_url") or self.defaults.api_base_url
        token = settings.get("token_url") or self.defaults.token_url
        org = str(settings.get("org_url") or "").rstrip("/")
        if org and self.org_paths:
            api_path, token_path = self.org_paths
            api, token = api or f"{org}{api_path}", token or f"{org}{token_path}"
        token = token.replace("{tenant}", str(settings.get("tenant_id") or ""))
        return Endpoints(api.rstrip("/"), token)


def option_flag(options: Mapping[str, Any], name: str, default: bool) -> bool:
    """A yes/no connector option, read leniently ("true", "1", "on" are yes)."""
    value = options.get(name, default)
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
