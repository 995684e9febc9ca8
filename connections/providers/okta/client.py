"""Okta Management API client: users, groups, sessions, factors, grants, lifecycle."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from connections.providers.ids import IdSyntax
from connections.providers.okta.auth import OktaAuth
from connections.providers.okta.search import words_expression
from connections.types import AccountState, ConnectorError, OperationResult, Outcome, System

REMOVABLE_GROUP_TYPES = frozenset({"OKTA_GROUP"})
LOCKED_STATUSES = frozenset({"SUSPENDED", "DEPROVISIONED"})
# Okta suspends only ACTIVE users (400 E0000001 otherwise). What suspend means for the others,
# in words a helpdesk agent can act on. None: nobody can sign in, so the lock is already there.
# A string: the person can still get in (now or later), so the step fails saying what to do.
_DEACTIVATE = "Deactivate the account in Okta to close it."
NOT_SUSPENDABLE: dict[str, str | None] = {
    "STAGED": None,
    "PROVISIONED": (
        "the account is PROVISIONED (activation pending): the person cannot sign in yet, but can "
        "still activate it from the activation email and then sign in. " + _DEACTIVATE
    ),
    "LOCKED_OUT": (
        "the account is LOCKED_OUT after failed sign-ins, and Okta refuses to suspend a locked-out "
        "user. The lock lifts by itself after the lockout period, or through self-service unlock. "
        + _DEACTIVATE
    ),
    "RECOVERY": (
        "the account is in RECOVERY (a password reset is under way): the person can finish the "
        "reset from the recovery link and sign in. " + _DEACTIVATE
    ),
    "PASSWORD_EXPIRED": (
        "the account's password is expired: the person can still sign in with the old password "
        "and choose a new one. " + _DEACTIVATE
    ),
}
_CODE_WORDS = {
    "E0000006": "permission denied (the token or service app lacks the scope or admin role)",
    "E0000047": "rate limit exceeded",
    "E0000028": "a required parameter is missing",
}


class OktaClient(OktaAuth):
    """Okta org API, authenticated by an SSWS API token or an OAuth service app."""

    system = System.OKTA
    id_syntax = {
        # A user id (00u…) or a login; a login may hold "/", "?" or "#" (sent percent-encoded).
        "user": IdSyntax(r"[^\s\\%]+", "an Okta user id or login", max_length=100),
        "group": IdSyntax(r"[0-9A-Za-z]{1,64}", "an Okta group id"),
        "app": IdSyntax(r"[0-9A-Za-z]{1,64}", "an Okta app id"),
        "device": IdSyntax(r"[0-9A-Za-z]{1,64}", "an Okta device id"),
    }

    def _parse_error(self, status: int, body: Mapping[str, Any]) -> tuple[str, str]:
        code = str(body.get("errorCode") or "")[:20]
        if not code:
            return "", ""
        summary = " ".join(str(body.get("errorSummary") or "").split())[:160]
        causes = body.get("errorCauses") or []
        cause = ""
        if causes and isinstance(causes[0], dict):
            cause = " ".join(str(causes[0].get("errorSummary") or "").split())[:160]
        words = _CODE_WORDS.get(code) or (f"{summary}: {cause}" if cause else summary)
        return code, words

    # --- reads --------------------------------------------------------------------------------
    def search_users(
        self, *, query: str = "", expression: str = "", after: str | None = None, limit: int = 20
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Users the words name (`okta.search.words_expression`) or matching a `search` expression,
        every status included; returns (users, next cursor)."""
        params: dict[str, Any] = {"limit": max(1, min(int(limit), 200))}
        if expression:
            params["search"] = expression
        elif query and (words := words_expression(query)):
            params["search"] = words  # `q` matches one prefix and leaves deactivated people out
        if after:
            params["after"] = after
        response = self.request("GET", "/users", params=params, resource="user")
        users = [_without_credentials(u) for u in response.json()]
        next_url = response.links.get("next", {}).get("url")
        cursor = parse_qs(urlsplit(next_url).query).get("after", [None])[0] if next_url else None
        return users, cursor

    def get_user(self, user_id_or_login: str) -> dict[str, Any]:
        """One user by id or login (credentials left out); ConnectorError E0000007 when absent."""
        user = self.get_json(f"/users/{self.segment(user_id_or_login)}", resource="user")
        return _without_credentials(user)

    def search_groups(self, *, name: str, limit: int = 20) -> list[dict[str, Any]]:
        """Groups whose name starts with `name` (listGroups `q`), for a group picker."""
        params = {"q": name, "limit": max(1, min(int(limit), 200))}
        return list(self.request("GET", "/groups", params=params, resource="group").json())

    def user_factors(self, user_id: str) -> list[dict[str, Any]]:
        """The authenticators the user enrolled (listFactors), for the person page."""
        path = f"/users/{self.segment(user_id)}/factors"
        return list(self.request("GET", path, resource="user").json())

    def user_app_links(self, user_id: str) -> list[dict[str, Any]]:
        """The apps assigned to the user (listAppLinks), for the person page."""
        path = f"/users/{self.segment(user_id)}/appLinks"
        return list(self.request("GET", path, resource="user").json())

    def user_groups(self, user_id: str) -> list[dict[str, Any]]:
        """Every group the user belongs to (all pages)."""
        groups: list[dict[str, Any]] = []
        for response in self._link_pages(f"/users/{self.segment(user_id)}/groups", resource="user"):
            groups.extend(response.json())
        return groups

    def group_members(self, group_id: str) -> list[dict[str, Any]]:
        """Every member of a group (`listGroupUsers`, all pages of up to 1000), no credentials."""
        members: list[dict[str, Any]] = []
        path = f"/groups/{self.segment(group_id, 'group')}/users?limit=1000"
        for response in self._link_pages(path, resource="group"):
            members.extend(_without_credentials(u) for u in response.json())
        return members

    def list_all(self, path: str, *, resource: str) -> list[dict[str, Any]]:
        """Every item of a list endpoint under the API base (all pages)."""
        items: list[dict[str, Any]] = []
        for response in self._link_pages(path, resource=resource):
            items.extend(response.json())
        return items

    def _link_pages(self, path: str, *, resource: str) -> Iterator[httpx.Response]:
        """Every page of a list, following `Link: <…>; rel="next"` headers."""
        url: str | None = path
        while url:
            response = self.request("GET", url, resource=resource)
            yield response
            url = response.links.get("next", {}).get("url")

    def account_state(self, account: str) -> AccountState:
        user = self.find_user(account)
        if user is None:
            return AccountState(exists=False, detail="No Okta user with this id.")
        status = str(user.get("status", ""))
        # Warn before anyone asks for an offboard that Okta's suspend will refuse.
        warning = (
            NOT_SUSPENDABLE.get(status) if status not in ("ACTIVE", *LOCKED_STATUSES) else None
        )
        return AccountState(
            exists=True,
            state=status,
            locked_out=status in LOCKED_STATUSES or status == "STAGED",
            account_id=user["id"],
            detail=f"Okta cannot suspend: {warning}" if warning else "",
        )

    def test_connection(self) -> str:
        users, _ = self.search_users(limit=1)
        mode = "OAuth service app" if self._auth_mode == "oauth" else "API token"
        return f"Signed in with the {mode} and listed users ({len(users)} returned): users can be read."

    # --- changes ------------------------------------------------------------------------------
    def _lifecycle(
        self, user_id: str, action: str, params: Mapping[str, Any] | None = None
    ) -> None:
        self.request(
            "POST",
            f"/users/{self.segment(user_id)}/lifecycle/{action}",
            params=params,
            resource="user",
        )

    def _status(self, user_id: str) -> str:
        """The user's status now, "" when there is no such user: read only after a refusal."""
        return str((self.find_user(user_id) or {}).get("status") or "")

    def suspend_user(self, user_id: str) -> OperationResult:
        """Suspend an ACTIVE user in one call; a suspended or deactivated user is already done.

        Okta suspends only ACTIVE users and answers 400 E0000001 otherwise (404 when it has no such
        user): only then is the status read, so the common case costs one call, not two. STAGED
        (never activated, cannot sign in) is already done; PROVISIONED, LOCKED_OUT, RECOVERY and
        PASSWORD_EXPIRED raise a permanent ConnectorError saying how the person could still get
        in and what to do.
        """
        try:
            self._lifecycle(user_id, "suspend")
        except ConnectorError as exc:
            if exc.code != "E0000001" and exc.status != 404:
                raise
            # The 404 is read too: Okta may answer it for a deactivated user (already locked).
            status = self._status(user_id)
            if status == "ACTIVE":  # refused all the same: say what Okta said
                raise
            return self._not_suspendable(status)
        return OperationResult(Outcome.DONE, "Suspended.", data={"previous_status": "ACTIVE"})

    def _not_suspendable(self, status: str) -> OperationResult:
        """The honest outcome of "suspend" for a user who is not ACTIVE (or raise, in words)."""
        if status in LOCKED_STATUSES:
            return OperationResult(Outcome.ALREADY_DONE, f"Already {status.lower()}.")
        if status == "":
            return OperationResult(Outcome.NO_ACCOUNT, "No Okta user with this id.")
        words = NOT_SUSPENDABLE.get(
            status,
            f"the account's status is {status}, which Okta cannot suspend. " + _DEACTIVATE,
        )
        if words is None:
            return OperationResult(
                Outcome.ALREADY_DONE,
                "Not suspended: the account is STAGED (never activated), so the person cannot "
                "sign in; Okta suspends only active accounts.",
            )
        raise ConnectorError(
            f"Okta: not suspended: {words}",
            system=self.system.value,
            code=f"status_{status.lower()}",
        )

    def unsuspend_user(self, user_id: str) -> OperationResult:
        """Unsuspend a SUSPENDED user in one call; an ACTIVE user is already done.

        Okta answers 400 E0000001 for a user who is not SUSPENDED: only then is the status read.
        A deactivated user raises a permanent ConnectorError (unsuspend cannot bring them back).
        """
        try:
            self._lifecycle(user_id, "unsuspend")
        except ConnectorError as exc:
            if exc.code != "E0000001" and exc.status != 404:
                raise
            status = self._status(user_id)
            if status == "":
                return OperationResult(Outcome.NO_ACCOUNT, "No Okta user with this id.")
            if status == "DEPROVISIONED":
                raise ConnectorError(
                    "Okta: the user is deactivated; unsuspend cannot reinstate them.",
                    system=self.system.value,
                    code="deprovisioned",
                ) from None
            if status == "SUSPENDED":  # refused all the same: say what Okta said
                raise
            return OperationResult(Outcome.ALREADY_DONE, f"Not suspended (status {status}).")
        return OperationResult(Outcome.DONE, "Unsuspended.")

    def clear_sessions(
        self, user_id: str, *, oauth_tokens: bool = True, forget_devices: bool = True
    ) -> OperationResult:
        """End every Okta session of the user, revoking OAuth/OIDC tokens when asked."""
        params = {
            "oauthTokens": str(bool(oauth_tokens)).lower(),
            "forgetDevices": str(bool(forget_devices)).lower(),
        }
        try:
            self.request(
                "DELETE", f"/users/{self.segment(user_id)}/sessions", params=params, resource="user"
            )
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(Outcome.NO_ACCOUNT, "No Okta user with this id.")
            raise
        tokens = " and OAuth tokens" if oauth_tokens else ""
        return OperationResult(Outcome.DONE, f"Sessions{tokens} cleared.")

    def reset_factors(self, user_id: str) -> OperationResult:
        """Unenroll every authenticator, in one call (404: no account).

        Okta's answer does not say how many were enrolled, nor whether any were: listing them
        first would cost two more calls on the lockout's path, and resetting none is harmless,
        so this reports done either way.
        """
        try:
            self._lifecycle(user_id, "reset_factors")
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(Outcome.NO_ACCOUNT, "No Okta user with this id.")
            raise
        return OperationResult(Outcome.DONE, "Authenticators reset (all unenrolled).")

    def remove_from_groups(self, user_id: str) -> OperationResult:
        """Remove the user from every Okta-mastered group (built-in and app groups stay)."""
        try:
            groups = self.user_groups(user_id)
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(Outcome.NO_ACCOUNT, "No Okta user with this id.")
            raise
        removable = [g for g in groups if g.get("type") in REMOVABLE_GROUP_TYPES]
        kept = len(groups) - len(removable)
        if not removable:
            return OperationResult(
                Outcome.ALREADY_DONE,
                f"No removable groups ({kept} kept).",
                data={"removed_group_ids": []},
            )
        user = self.segment(user_id)
        # Every id is checked before the first removal is sent (a bad one removes nothing).
        paths = [f"/groups/{self.segment(g['id'], 'group')}/users/{user}" for g in removable]
        # The removals are independent: side by side (fan_out); a 404 means already not a member.
        self.delete_each(paths, resource="group membership")
        ids = [str(g["id"]) for g in removable]
        return OperationResult(
            Outcome.DONE,
            f"Removed from {len(removable)} group(s); {kept} built-in or directory group(s) kept.",
            # What reinstate puts back (issue 13): the memberships this step ended.
            data={"removed_group_ids": ids},
        )

    def revoke_grants(self, user_id: str) -> OperationResult:
        """Revoke every OAuth consent grant the user gave, in one call (404: no account).

        Okta answers 204 whether or not there were grants: listing them first would cost a call
        on the lockout's path, so this reports done either way.
        """
        try:
            self.request("DELETE", f"/users/{self.segment(user_id)}/grants", resource="user")
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(Outcome.NO_ACCOUNT, "No Okta user with this id.")
            raise
        return OperationResult(Outcome.DONE, "Grants revoked (if there were any).")

    def deactivate_user(self, user_id: str, *, send_email: bool = False) -> OperationResult:
        """Deactivate in one call (irreversible, deprovisions apps); DEPROVISIONED is already done.

        `send_email`: Okta's own choice to email the admins about the deactivation (sendEmail).

        Okta answers 404 E0000007 for a user who is already deactivated (CONTRACTS.md): only then
        is the status read, to tell that from a user who does not exist.
        """
        try:
            self._lifecycle(
                user_id, "deactivate", params={"sendEmail": str(bool(send_email)).lower()}
            )
        except ConnectorError as exc:
            if exc.status != 404:
                raise
            status = self._status(user_id)
            if status == "":
                return OperationResult(Outcome.NO_ACCOUNT, "No Okta user with this id.")
            if status == "DEPROVISIONED":
                return OperationResult(Outcome.ALREADY_DONE, "Already deactivated.")
            raise
        emailed = " (Okta emails the admins)" if send_email else ""
        return OperationResult(Outcome.DONE, f"Deactivated{emailed}.")


def _without_credentials(user: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "credentials"}
