"""A verification's read-back, in a neutral shape: what was seen, what contradicts the steps.

Each provider's `verify` reads the account back after a request's steps and fills a `ReadBack`;
`ReadBack.result()` turns it into an `OperationResult` whose `data` carries `verdict` (verified,
not_verified, unavailable) and `observed` (field by field), and whose `detail` says it in words.
The portal stores these (connections knows nothing of requests).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from connections.types import ConnectorError, OperationResult, Outcome

VERIFIED = "verified"
NOT_VERIFIED = "not_verified"
UNAVAILABLE = "unavailable"
T = TypeVar("T")


@dataclass
class ReadBack:
    """What one system showed: observations, contradictions and parts that could not be read."""

    system_label: str
    observed: dict[str, Any] = field(default_factory=dict)
    contradictions: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: int = 0

    def read(self, part: str, reader: Callable[[], T]) -> T | None:
        """Run one read; a permanent refusal (403, 400) marks the part unreadable, in words.

        Retryable errors and a missing account propagate: the runner retries the first, and the
        caller decides about the second.
        """
        try:
            return reader()
        except ConnectorError as exc:
            if exc.retryable or exc.outcome_unknown or exc.status in (None, 404):
                raise
            self.unreadable.append(f"{part} could not be read ({exc.message})")
            self.observed[part] = "unreadable"
            return None

    def expect(self, ok: bool, words: str) -> None:
        """Record a contradiction (`words`, e.g. "Okta still lists 2 app assignments") unless ok."""
        self.checks += 1
        if not ok:
            self.contradictions.append(words)

    def result(self) -> OperationResult:
        if self.contradictions:
            verdict, words = NOT_VERIFIED, "; ".join(self.contradictions)
        elif self.unreadable:
            verdict, words = UNAVAILABLE, "; ".join(self.unreadable)
        elif not self.checks:  # e.g. sessions, which these APIs do not show
            verdict = UNAVAILABLE
            words = f"{self.system_label} shows nothing that proves the steps: " + "; ".join(
                self.notes or ["no read-back"]
            )
        else:
            verdict = VERIFIED
            words = "; ".join(self.notes) or f"{self.system_label} shows the account locked out"
        return OperationResult(
            Outcome.DONE,
            words[:480],
            data={"verdict": verdict, "observed": self.observed},
        )


def read_side_by_side(
    readers: Mapping[str, Callable[[], Any]],
    side_by_side: Callable[[list[Callable[[], Any]]], list[Any]],
) -> dict[str, Callable[[], Any]]:
    """Run independent reads at once (`ProviderClient.side_by_side`); each part comes back as a
    reader that returns what was read or raises what the read raised, to hand to `ReadBack.read`
    (or call directly), so every part is judged exactly as a read one after another would be."""
    parts = list(readers)

    def attempt(part: str) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return readers[part]()
            except ConnectorError as exc:  # judged per part afterwards
                return _Failed(exc)

        return run

    outcomes = side_by_side([attempt(part) for part in parts])
    return {
        part: functools.partial(_replay, got) for part, got in zip(parts, outcomes, strict=True)
    }


@dataclass
class _Failed:
    error: ConnectorError


def _replay(got: Any) -> Any:
    if isinstance(got, _Failed):
        raise got.error
    return got


def no_account(system_label: str) -> OperationResult:
    return OperationResult(Outcome.NO_ACCOUNT, f"No {system_label} account to verify.")


def wanted(options: Mapping[str, Any], name: str) -> bool:
    """Whether the request ran the step this check is about (a connector option, default no)."""
    value = options.get(name, False)
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


def since(options: Mapping[str, Any]) -> datetime | None:
    """When the request's steps in this system started (ISO 8601, set by the runner), or None."""
    raw = options.get("since")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
