"""Finding Okta groups by name for the policy pages' group picker (issue 16). A read: no audit."""

from __future__ import annotations

from dataclasses import dataclass, field

from connections import registry
from connections.types import ConnectorError


@dataclass
class GroupSearch:
    groups: list[dict[str, str]] = field(default_factory=list)
    error: str = ""


def okta_group_search(*, name: str, limit: int = 20) -> GroupSearch:
    """Okta groups whose name starts with `name`; Okta's errors in words in `error`, not raised."""
    found = GroupSearch()
    try:
        found.groups = registry.okta_search_groups(name=name, limit=limit)
    except ConnectorError as exc:
        found.error = f"Okta could not be searched for groups: {exc.message}"
    return found
