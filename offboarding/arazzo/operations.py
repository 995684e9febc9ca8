"""The alias table: each operation the portal's connectors perform, as the official API names it.

One row per (system, operation): the source description it lives in, its `operationId`, the
parameter that carries the person's id (filled from a workflow input), fixed parameters and body,
the connector options a query parameter sets, and the `successCriteria` the portal treats as
success (including the "already done" answers). `ALIASES` maps other names for an operation (the
seed's `clearUserSessions`) to the official one, so an imported document can use either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    name: str
    url: str  # relative to the exported document: the descriptions are kept side by side
    system: str
    person_input: str  # the workflow input that carries the person's id in this system
    person_words: str


SOURCES: dict[str, Source] = {
    s.system: s
    for s in (
        Source("okta", "okta.yaml", "okta", "oktaUserId", "The person's Okta user id"),
        Source(
            "googleDirectory",
            "google-directory.openapi.json",
            "google",
            "googleUserKey",
            "The person's Google Workspace primary email",
        ),
        Source(
            "microsoftGraph",
            "microsoft-graph.yaml",
            "msgraph",
            "microsoftUserId",
            "The person's Microsoft 365 user principal name",
        ),
        Source("zoom", "zoom.json", "zoom", "zoomUserId", "The person's Zoom email"),
    )
}
SOURCE_BY_NAME: dict[str, Source] = {s.name: s for s in SOURCES.values()}


# In a payload, where the person's id goes (replaced by the workflow input on export).
PERSON = "$person"


@dataclass(frozen=True)
class ApiOperation:
    """One portal operation as the API's own description names it (its principal call)."""

    system: str
    operation: str  # the portal's name (connections.providers.<system>.PROVIDER.operations)
    operation_id: str
    person_param: str  # the path parameter that carries the person's id ("": in the body)
    success: str  # one Arazzo condition: every answer the portal treats as success
    # Query parameters that carry a connector option: (query parameter, connector option, the
    # API's default when the parameter is left out).
    option_params: tuple[tuple[str, str, bool], ...] = ()
    fixed_params: tuple[tuple[str, str, Any], ...] = ()  # (name, in, value)
    payload: dict[str, Any] | None = None  # the JSON body, when the call sends one
    note: str = ""  # what the portal does beyond the one call (lists, loops, read-backs)

    @property
    def key(self) -> str:
        return f"{self.system}.{self.operation}"


_OKTA_E0000001 = "$statusCode == 400 && $response.body#/errorCode == 'E0000001'"
_EACH_GONE = "$statusCode == 204 || $statusCode == 404"

OPERATIONS: tuple[ApiOperation, ...] = (
    ApiOperation(
        "okta",
        "suspend",
        "suspendUser",
        "id",
        f"$statusCode == 200 || ({_OKTA_E0000001})",
        note="A 400 E0000001 means the user is not ACTIVE: the portal reads the status back "
        "and treats SUSPENDED, DEPROVISIONED and STAGED as already done.",
    ),
    ApiOperation(
        "okta",
        "unsuspend",
        "unsuspendUser",
        "id",
        f"$statusCode == 200 || ({_OKTA_E0000001})",
        note="A 400 E0000001 means the user is not SUSPENDED: ACTIVE is already done.",
    ),
    ApiOperation(
        "okta",
        "clear_sessions",
        "revokeUserSessions",
        "userId",
        "$statusCode == 204",
        option_params=(
            ("oauthTokens", "oauth_tokens", False),
            ("forgetDevices", "forget_devices", True),
        ),
    ),
    ApiOperation("okta", "reset_factors", "resetFactors", "id", "$statusCode == 200"),
    ApiOperation(
        "okta",
        "remove_from_groups",
        "unassignUserFromGroup",
        "userId",
        _EACH_GONE,
        note="For each OKTA_GROUP membership listUserGroups returns (groupId); built-in and "
        "app groups stay. No removable group is already done.",
    ),
    ApiOperation("okta", "revoke_grants", "revokeUserGrants", "userId", "$statusCode == 204"),
    ApiOperation(
        "okta",
        "deactivate",
        "deactivateUser",
        "id",
        "$statusCode == 200 || $statusCode == 404",
        fixed_params=(("sendEmail", "query", False),),
        note="Irreversible. A 404 E0000007 for a user already DEPROVISIONED is already done.",
    ),
    ApiOperation(
        "okta",
        "restore_groups",
        "assignUserToGroup",
        "userId",
        "$statusCode == 204",
        note="For each group the offboard removed (groupId, from its step result).",
    ),
    ApiOperation(
        "okta",
        "restore_apps",
        "assignUserToApplication",
        "",
        "$statusCode == 200",
        payload={"id": PERSON, "scope": "USER"},
        note="For each app the offboard unassigned (appId, from its step result).",
    ),
    ApiOperation(
        "google",
        "suspend",
        "directory.users.update",
        "userKey",
        "$statusCode == 200",
        payload={"suspended": True},
        note="Google answers 200 whether or not the account already was suspended.",
    ),
    ApiOperation(
        "google",
        "unsuspend",
        "directory.users.update",
        "userKey",
        "$statusCode == 200",
        payload={"suspended": False},
    ),
    ApiOperation("google", "sign_out", "directory.users.signOut", "userKey", "$statusCode == 204"),
    ApiOperation(
        "google",
        "revoke_oauth_tokens",
        "directory.tokens.delete",
        "userKey",
        _EACH_GONE,
        note="For each token directory.tokens.list returns (clientId); none is already done.",
    ),
    ApiOperation(
        "google",
        "delete_app_passwords",
        "directory.asps.delete",
        "userKey",
        _EACH_GONE,
        note="For each app password directory.asps.list returns (codeId); none is already done.",
    ),
    ApiOperation(
        "msgraph",
        "disable",
        "user.update",
        "user-id",
        "$statusCode == 204",
        payload={"accountEnabled": False},
        note="Graph answers 204 whether or not the account already was disabled; a 400 is "
        "read back (already disabled is done, an on-premises account is refused).",
    ),
    ApiOperation(
        "msgraph",
        "enable",
        "user.update",
        "user-id",
        "$statusCode == 204",
        payload={"accountEnabled": True},
    ),
    ApiOperation(
        "msgraph",
        "revoke_sessions",
        "user.revokeSignInSessions",
        "user-id",
        "$statusCode == 200",
    ),
    ApiOperation(
        "zoom",
        "deactivate",
        "userStatus",
        "userId",
        "$statusCode == 204",
        payload={"action": "deactivate"},
        note="An error answer is read back: a user already inactive is already done.",
    ),
    ApiOperation(
        "zoom",
        "activate",
        "userStatus",
        "userId",
        "$statusCode == 204",
        payload={"action": "activate"},
    ),
    ApiOperation("zoom", "revoke_token", "userSSOTokenDelete", "userId", "$statusCode == 204"),
)

BY_KEY: dict[str, ApiOperation] = {o.key: o for o in OPERATIONS}

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


def for_step(system: str, operation: str) -> ApiOperation:
    return BY_KEY[f"{system}.{operation}"]
