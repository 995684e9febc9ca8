"""The alias table: each operation the portal's connectors perform, as the official API names it.

One row per (system, operation): the source description it lives in, its `operationId`, the
parameter that carries the person's id (filled from a workflow input), fixed parameters and body,
the connector options a query parameter sets, and the `successCriteria` the portal treats as
success (including the "already done" answers). `ALIASES` maps other names for an operation (the
seed's `clearUserSessions`) to the official one, so an imported document can use either.
"""

from __future__ import annotations

from typing import Any

from offboarding.arazzo.operations_data import (  # noqa: F401 (re-exported)
    OPERATIONS,
    PERSON,
    SOURCE_BY_NAME,
    SOURCES,
    ApiOperation,
    Source,
)

# Each (system, operation) with its rows: one, or one per option value (`ApiOperation.when`).
BY_KEY: dict[str, list[ApiOperation]] = {}
for _row in OPERATIONS:
    BY_KEY.setdefault(_row.key, []).append(_row)

# Other names an imported document may use for an official operationId.
ALIASES: dict[str, str] = {
    "clearUserSessions": "revokeUserSessions",
    "deleteUserSessions": "revokeUserSessions",
    "revokeSignInSessions": "user.revokeSignInSessions",
    "updateUserStatus": "userStatus",
    "deleteUserSsoToken": "userSSOTokenDelete",
    "signOutUser": "directory.users.signOut",
}


def official_operation_id(name: str) -> str:
    """The official operationId for a name an imported step uses (itself when not an alias)."""
    return ALIASES.get(name, name)


def candidates(operation_id: str) -> list[ApiOperation]:
    """The portal operations one official operationId can stand for (several for updates)."""
    return [o for o in OPERATIONS if o.operation_id == official_operation_id(operation_id)]


def for_step(system: str, operation: str, options: dict[str, Any] | None = None) -> ApiOperation:
    """The row for a step: the one whose `when` its connector options match (KeyError: none)."""
    given = options or {}
    rows = BY_KEY[f"{system}.{operation}"]
    for row in rows:
        if all(k in given and bool(given[k]) == v for k, v in row.when):
            return row
    return rows[0]
