"""What an Okta admin looks for first on a person's page (issue 16): last sign-in, enrolled
authenticators, assigned apps. Live reads; Okta's errors come back in words, never raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from connections import registry
from connections.types import ConnectorError
from offboarding.targets import TargetInfo


@dataclass
class PersonOverview:
    last_login: datetime | None = None
    factors: list[dict[str, str]] = field(default_factory=list)
    apps: list[str] = field(default_factory=list)
    error: str = ""


def person_overview(*, target: TargetInfo) -> PersonOverview:
    """The person's last Okta sign-in (from the user read), authenticators and apps."""
    found = PersonOverview()
    try:
        found.last_login = datetime.fromisoformat(target.last_login) if target.last_login else None
    except ValueError:
        found.last_login = None
    try:
        found.factors = registry.okta_user_factors(target.okta_id)
        found.apps = sorted(a for a in registry.okta_user_apps(target.okta_id) if a)
    except ConnectorError as exc:
        found.error = f"Okta could not list the person's authenticators and apps: {exc.message}"
    return found
