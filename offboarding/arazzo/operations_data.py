"""The alias table's rows: each portal operation as the official API description names it.

Kept apart from `offboarding.arazzo.operations` (the look-ups) so that each module stays short;
import these names from there. Issue 17 follow-up: the rows for issue 13's steps (apps, devices,
backup codes, mobile devices) and each system's read-back (`verify`).
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
    # The connector options this row stands for, when one portal operation makes different calls
    # by option (Okta devices: suspend or deactivate); an imported step gets them fixed.
    when: tuple[tuple[str, Any], ...] = ()
    # A system's read-back (`verify`): a GET of the person, compared to what the steps changed.
    read_back: bool = False
    # Read-back options that follow another step's: (own option, operation, its option).
    follows: tuple[tuple[str, str, str], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.system}.{self.operation}"


_OKTA_E0000001 = "$statusCode == 400 && $response.body#/errorCode == 'E0000001'"
_EACH_GONE = "$statusCode == 204 || $statusCode == 404"
_READ_BACK = (
    "The read-back: the portal reads the person back and compares the answer to what this "
    "system's steps should have changed; it runs after them"
)

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
        option_params=(("sendEmail", "send_email", False),),
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
    ApiOperation(
        "okta",
        "unassign_apps",
        "unassignUserFromApplication",
        "userId",
        f"{_EACH_GONE} || ($statusCode == 403 && $response.body#/errorCode == 'E0000046')",
        fixed_params=(("sendEmail", "query", False),),
        note="For each app listAppLinks returns (appInstanceId as appId). A 403 E0000046 is an "
        "app a group grants: it is kept (it goes with the group). None is already done.",
    ),
    ApiOperation(
        "okta",
        "lock_devices",
        "deactivateDevice",
        "",
        "$statusCode == 204 || $statusCode == 404",
        when=(("deactivate", True),),
        note="For each device listUserDevices returns for the person (deviceId): suspendDevice "
        "when ACTIVE, then deactivateDevice (irreversible). Suspended or deactivated devices, "
        "or none, are already done.",
    ),
    ApiOperation(
        "okta",
        "lock_devices",
        "suspendDevice",
        "",
        f"$statusCode == 204 || $statusCode == 404 || ({_OKTA_E0000001})",
        when=(("deactivate", False),),
        note="For each ACTIVE device listUserDevices returns for the person (deviceId). A 400 "
        "E0000001 is a device no longer ACTIVE: already done.",
    ),
    ApiOperation(
        "okta",
        "verify",
        "getUser",
        "id",
        "$statusCode == 200",
        read_back=True,
        follows=(("deactivate_devices", "lock_devices", "deactivate"),),
        note=_READ_BACK + " (status, sessions, factors, groups, grants, app links, devices).",
    ),
    ApiOperation(
        "google",
        "invalidate_backup_codes",
        "directory.verificationCodes.invalidate",
        "userKey",
        "$statusCode == 204",
        note="Google answers 204 whether or not codes were left: repeatable.",
    ),
    ApiOperation(
        "google",
        "mobile_devices",
        "directory.mobiledevices.action",
        "",
        _EACH_GONE,
        payload={"action": "admin_account_wipe"},
        when=(("block_only", False),),
        note="For each of the person's devices directory.mobiledevices.list returns (query "
        "email:…; resourceId; customerId: the connection's, or my_customer); devices already "
        "wiping, or none, are already done.",
    ),
    ApiOperation(
        "google",
        "mobile_devices",
        "directory.mobiledevices.action",
        "",
        _EACH_GONE,
        payload={"action": "block"},
        when=(("block_only", True),),
        note="For each of the person's devices directory.mobiledevices.list returns (query "
        "email:…; resourceId); devices already blocked or wiping, or none, are already done.",
    ),
    ApiOperation(
        "google",
        "verify",
        "directory.users.get",
        "userKey",
        "$statusCode == 200",
        read_back=True,
        follows=(("block_only", "mobile_devices", "block_only"),),
        note=_READ_BACK + " (suspended, tokens, app passwords, backup codes, mobile devices).",
    ),
    ApiOperation(
        "msgraph",
        "disable_devices",
        "device.update",
        "",
        "$statusCode == 204 || $statusCode == 404",
        payload={"accountEnabled": False},
        note="For each enabled device user.listRegisteredDevices returns for the person (id as "
        "device-id); disabled devices, or none, are already done. Needs Device.ReadWrite.All.",
    ),
    ApiOperation(
        "msgraph",
        "verify",
        "user.get",
        "user-id",
        "$statusCode == 200",
        read_back=True,
        note=_READ_BACK + " (accountEnabled, signInSessionsValidFromDateTime, devices).",
    ),
    ApiOperation(
        "zoom",
        "verify",
        "user",
        "userId",
        "$statusCode == 200",
        read_back=True,
        note=_READ_BACK + " (status).",
    ),
)
