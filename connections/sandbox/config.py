"""How to run one sandbox, and the rule that it only ever listens on loopback."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path


class NotLoopback(ValueError):
    """The sandbox only ever binds to a loopback address."""


def check_loopback(host: str) -> None:
    """Raise NotLoopback unless host is localhost or a loopback IP."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise NotLoopback(
        f"refusing to bind the sandbox to {host!r}: only loopback addresses (127.0.0.1, ::1, localhost) are allowed"
    )


@dataclass
class SandboxConfig:
    """How to run one sandbox."""

    host: str = "127.0.0.1"
    port: int = 8100
    users: int = 500
    seed: int = 1
    data_dir: Path = Path("var/sandbox")
    faults: dict[str, dict] = field(
        default_factory=dict
    )  # system -> fault fields, applied at start and on reset
    hang_max_seconds: float = 600.0
    okta_dpop: bool = (
        True  # the Okta service app requires DPoP (PUT /_sandbox/apps/okta changes it)
    )
