"""Reading many people from Okta at once, for a bulk preview.

One `GET /users/{login}` per row would cost 10,000 calls (and minutes of rate limit) for a large
file. Instead (CONTRACTS.md §1.1, `listUsers`):

- a small file is looked up with `search` expressions that match up to `CHUNK` logins or emails
  per call (`profile.login eq "a" or profile.email eq "a" or …`), so 500 rows cost 20 calls;
- a large file (more than `settings.OFFBOARDING_BULK_SEARCH_MAX_ROWS` rows) reads everyone, 200 a
  page (`search=profile.login pr`, which unlike a bare listing includes DEPROVISIONED users), so
  the cost is the org's size / 200 whatever the file holds;
- group membership (protected groups, delegations limited to groups) is read once per group
  (`listGroupUsers`, 1000 a page) instead of once per person.

Reads outside systems: never call while holding a transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from connections import registry
from connections.types import ConnectorError
from offboarding.exceptions import TargetLookupFailed

CHUNK = 25  # identities per search call: two clauses each keeps the URL well under 8 kB


@dataclass
class Lookup:
    """Who Okta knows among the identities asked for, and what it cost."""

    people: dict[str, dict[str, Any]] = field(default_factory=dict)  # casefolded login/email → user
    method: str = "search"
    calls: int = 0
    seconds: float = 0.0

    def find(self, key: str) -> dict[str, Any] | None:
        return self.people.get(key.casefold())

    def report(self) -> dict[str, Any]:
        return {"method": self.method, "okta_calls": self.calls, "seconds": round(self.seconds, 3)}


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _index(lookup: Lookup, users: list[dict[str, Any]]) -> None:
    for user in users:
        profile = user.get("profile") or {}
        for key in (profile.get("login"), profile.get("email")):
            if key:
                lookup.people.setdefault(str(key).casefold(), user)


def _failed(exc: ConnectorError) -> TargetLookupFailed:
    return TargetLookupFailed(
        f"Okta could not be read for the preview: {exc.message}", retryable=exc.retryable
    )


def people_lookup(keys: list[str]) -> Lookup:
    """Okta users for these logins or emails (casefolded, distinct). Raises TargetLookupFailed."""
    started = time.monotonic()
    lookup = Lookup()
    try:
        if len(keys) > settings.OFFBOARDING_BULK_SEARCH_MAX_ROWS:
            lookup.method = "full read"
            after: str | None = None
            while True:
                page, after = registry.okta_search_users(
                    expression="profile.login pr", after=after, limit=200
                )
                lookup.calls += 1
                _index(lookup, page)
                if not after or not page:
                    break
        else:
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                expression = " or ".join(
                    f"profile.login eq {_quoted(k)} or profile.email eq {_quoted(k)}" for k in chunk
                )
                users = registry.okta_search_all(expression)
                lookup.calls += 1 + len(users) // 200
                _index(lookup, users)
    except ConnectorError as exc:
        raise _failed(exc) from exc
    lookup.seconds = time.monotonic() - started
    return lookup


def group_members(group_ids: list[str]) -> tuple[dict[str, set[str]], int]:
    """For each group: the Okta ids of its members; and the calls it took (about 1 per 1000)."""
    members: dict[str, set[str]] = {}
    calls = 0
    for gid in group_ids:
        calls += 1
        try:
            users = registry.okta_group_members(gid)
        except ConnectorError as exc:
            if exc.status == 404 or exc.code in ("E0000007", "bad_id"):
                # A group Okta no longer has has no members: as for a single request, whose
                # person's own groups would never name it.
                members[gid] = set()
                continue
            raise _failed(exc) from exc
        calls += len(users) // 1000
        members[gid] = {str(u["id"]) for u in users}
    return members, calls


def group_people(group_id: str) -> list[dict[str, Any]]:
    """Everyone in one Okta group (the "everyone in this group" source). Raises
    TargetLookupFailed in words (no such group, Okta unreachable)."""
    try:
        return registry.okta_group_members(group_id)
    except ConnectorError as exc:
        if exc.status == 404 or exc.code in ("E0000007", "bad_id"):
            raise TargetLookupFailed(
                f"Okta has no group “{group_id}”: give the group's id (00g…).", retryable=False
            ) from exc
        raise _failed(exc) from exc
