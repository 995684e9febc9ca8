"""Switchable faults per system (latency, errors, 429 bursts, hang, drop) and per-minute rate buckets."""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass


class FaultError(ValueError):
    """A fault specification that cannot be applied."""


@dataclass
class FaultSpec:
    """The faults switched on for one system."""

    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    burst_429: dict | None = None  # {"count": n, "retry_after": s}
    rate_limit_per_minute: int | dict | None = None
    hang: bool = False
    apply_then_drop: bool | int = False

    @classmethod
    def from_dict(cls, raw: dict) -> FaultSpec:
        unknown = set(raw) - set(cls.__dataclass_fields__) - {"system"}
        if unknown:
            raise FaultError(f"unknown fault field(s): {sorted(unknown)}")
        spec = cls(**{k: v for k, v in raw.items() if k != "system"})
        spec.validate()
        return spec

    def validate(self) -> None:
        if not 0 <= float(self.error_rate) <= 1:
            raise FaultError("error_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise FaultError("latency_ms and jitter_ms must be >= 0")
        if self.burst_429 is not None and int(self.burst_429.get("count", 0)) < 0:
            raise FaultError("burst_429.count must be >= 0")
        limit = self.rate_limit_per_minute
        if limit is not None and not isinstance(limit, int | dict | str):
            raise FaultError(
                "rate_limit_per_minute must be an int, a {family: int} map or 'default'"
            )

    def active(self) -> bool:
        return self != FaultSpec()


@dataclass
class Decision:
    """What the fault layer wants done with one request."""

    delay: float = 0.0
    hang: bool = False
    burst_retry_after: int | None = None
    error_status: int | None = None
    drop: bool = False


class Faults:
    """Per-system fault specs with a seeded RNG so that sequences are repeatable."""

    def __init__(self, seed: int, limits: Mapping[str, Mapping[str, int]]):
        """limits: each system's Okta-like per-minute limits per endpoint family (used when enforced)."""
        self.seed = seed
        self.limits = limits
        self.systems = tuple(limits)
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.specs = {s: FaultSpec() for s in self.systems}
            self.rngs = {s: self._rng(s) for s in self.systems}
            self.bursts = dict.fromkeys(self.systems, 0)
            self.drops = dict.fromkeys(self.systems, 0)
        self.release.set()  # let hung requests go
        self.release = threading.Event()

    def _rng(self, system: str) -> random.Random:
        return random.Random(self.seed * 1000003 + zlib.crc32(system.encode()))  # noqa: S311

    def set(self, system: str, raw: dict) -> None:
        """Replace the faults of one system (or of every system with 'all')."""
        targets = self.systems if system == "all" else (system,)
        if system != "all" and system not in self.systems:
            raise FaultError(f"unknown system {system!r}")
        spec = FaultSpec.from_dict(raw)
        with self.lock:
            for s in targets:
                self.specs[s] = FaultSpec(**asdict(spec))
                self.rngs[s] = self._rng(s)
                self.bursts[s] = int((spec.burst_429 or {}).get("count", 0))
                drop = spec.apply_then_drop
                self.drops[s] = -1 if drop is True else int(drop or 0)
        if not spec.hang:
            self.release.set()
            self.release = threading.Event()

    def describe(self) -> dict:
        with self.lock:
            return {
                s: {
                    **asdict(self.specs[s]),
                    "burst_remaining": self.bursts[s],
                    "drops_remaining": self.drops[s],
                }
                for s in self.systems
            }

    def decide(self, system: str, mutating: bool) -> Decision:
        """Draw this request's fate; consumes burst and drop counters."""
        with self.lock:
            spec = self.specs[system]
            if not spec.active():
                return Decision()
            rng = self.rngs[system]
            decision = Decision(
                delay=(spec.latency_ms + rng.uniform(0, spec.jitter_ms)) / 1000.0, hang=spec.hang
            )
            if self.bursts[system] > 0:
                self.bursts[system] -= 1
                decision.burst_retry_after = int((spec.burst_429 or {}).get("retry_after", 1))
            elif spec.error_rate and rng.random() < spec.error_rate:
                decision.error_status = 500 if rng.random() < 0.5 else 503
            elif mutating and self.drops[system] != 0:
                self.drops[system] -= 1 if self.drops[system] > 0 else 0
                decision.drop = True
            return decision

    def limit_for(self, system: str, family: str) -> tuple[int, bool]:
        """(limit, enforced) for an endpoint family."""
        configured = self.specs[system].rate_limit_per_minute
        default = self.limits[system].get(family, 600)
        if configured is None:
            return default, False
        if configured == "default":
            return default, True
        if isinstance(configured, dict):
            if family in configured:
                return int(configured[family]), True
            return default, False
        return int(configured), True

    def wait_hang(self, timeout: float) -> None:
        self.release.wait(timeout)


class RateBuckets:
    """Fixed one-minute windows of request counts per (system, family)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str], tuple[int, int]] = {}
        # Past windows too, for benchmarks: (system, family, window start) → (served, refused, limit).
        self.usage: dict[tuple[str, str, int], tuple[int, int, int]] = {}

    def hit(self, system: str, family: str, limit: int) -> tuple[int, int, bool]:
        """Count one request; returns (remaining, reset_epoch, over_limit)."""
        now = int(time.time())
        window = now - now % 60
        with self.lock:
            start, count = self.counts.get((system, family), (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self.counts[(system, family)] = (start, count)
            served, refused, _ = self.usage.get((system, family, start), (0, 0, limit))
            over = count > limit
            self.usage[(system, family, start)] = (served + (not over), refused + over, limit)
        return max(0, limit - count), start + 60, over

    def windows(self) -> list[dict]:
        """Every window seen: system, family, start (epoch), calls served and refused, limit."""
        with self.lock:
            return [
                {
                    "system": k[0],
                    "family": k[1],
                    "start": k[2],
                    "served": v[0],
                    "refused": v[1],
                    "limit": v[2],
                }
                for k, v in sorted(self.usage.items())
            ]

    def clear(self) -> None:
        with self.lock:
            self.counts.clear()
            self.usage.clear()
