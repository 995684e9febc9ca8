"""Zoom API v2 client (Server-to-Server OAuth): users, status, SSO token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connections.providers.errors import config_error
from connections.providers.http import ProviderClient
from connections.providers.ids import EMAIL, IdSyntax
from connections.types import AccountState, ConnectorError, OperationResult, Outcome, System


class ZoomClient(ProviderClient):
    """Zoom account API as a Server-to-Server OAuth app (account credentials grant)."""

    system = System.ZOOM
    id_syntax = {"user": IdSyntax(rf"[A-Za-z0-9_-]{{1,64}}|{EMAIL}", "a Zoom user id or email")}

    def _fetch_token(self) -> tuple[str, float]:
        account_id = self.config.settings.get("account_id")
        client_id = self.config.settings.get("client_id")
        client_secret = self.config.secret.get("client_secret")
        if not account_id or not client_id or not client_secret:
            raise config_error(
                self.system, "the account id, client id or client secret is missing."
            )
        return self._token_request(
            params={"grant_type": "account_credentials", "account_id": account_id},
            auth=(client_id, client_secret),
        )

    def _parse_error(self, status: int, body: Mapping[str, Any]) -> tuple[str, str]:
        if "code" not in body:
            return "", ""
        return str(body.get("code"))[:20], " ".join(str(body.get("message") or "").split())[:160]

    def _user_path(self, user_id: str) -> str:
        return f"/users/{self.segment(user_id)}"

    def get_user(self, user_id: str) -> dict[str, Any]:
        """One user by id, email or `me`; ConnectorError 1001 when absent."""
        return self.get_json(self._user_path(user_id), resource="user")

    def is_missing(self, exc: ConnectorError) -> bool:
        """404, or Zoom's code 1001 "User does not exist"."""
        return exc.status == 404 or exc.code == "1001"

    def account_state(self, account: str) -> AccountState:
        user = self.find_user(account)
        if user is None:
            return AccountState(exists=False, detail="No Zoom user with this address.")
        status = str(user.get("status", ""))
        return AccountState(
            exists=True,
            state=status,
            locked_out=status == "inactive",
            account_id=str(user.get("id", "")),
        )

    def test_connection(self) -> str:
        try:
            user = self.get_user("me")
        except ConnectorError as exc:
            # Some account-level apps have no "me"; Zoom's own not-found still proves the token works.
            if exc.code != "1001":
                raise
            return "Got a Server-to-Server OAuth token and the Users API answered: the credential works."
        return (
            "Got a Server-to-Server OAuth token and read a user "
            f"(status {user.get('status', '?')}): users can be read."
        )

    def _set_status(self, user_id: str, action: str) -> OperationResult:
        """One PUT; a refusal is read back, to tell "already so" from a real refusal.

        What Zoom answers for a repeated status change is undocumented (CONTRACTS.md §3.1): a 204
        reports done; an error answer reads the status, and the status already wanted is
        already done. 404 or code 1001: no account.
        """
        wanted = "inactive" if action == "deactivate" else "active"
        try:
            self.request(
                "PUT",
                f"{self._user_path(user_id)}/status",
                json={"action": action},
                resource="user",
            )
        except ConnectorError as exc:
            if self.is_missing(exc):
                return OperationResult(Outcome.NO_ACCOUNT, "No Zoom user with this address.")
            if exc.retryable or exc.status in (None, 401, 403):
                raise
            user = self.find_user(user_id)
            if user is None:
                return OperationResult(Outcome.NO_ACCOUNT, "No Zoom user with this address.")
            if user.get("status") == wanted:
                return OperationResult(Outcome.ALREADY_DONE, f"Already {wanted}.")
            raise
        return OperationResult(
            Outcome.DONE, "Deactivated." if action == "deactivate" else "Activated."
        )

    def deactivate_user(self, user_id: str) -> OperationResult:
        """Deactivate the user (they can no longer sign in); inactive already means done."""
        return self._set_status(user_id, "deactivate")

    def activate_user(self, user_id: str) -> OperationResult:
        """Activate a deactivated user; active already means done."""
        return self._set_status(user_id, "activate")

    def revoke_token(self, user_id: str) -> OperationResult:
        """Revoke the user's SSO token, which signs them out of Zoom."""
        try:
            self.request("DELETE", f"{self._user_path(user_id)}/token", resource="user")
        except ConnectorError as exc:
            if exc.status == 404 or exc.code == "1001":
                return OperationResult(Outcome.NO_ACCOUNT, "No Zoom user with this address.")
            raise
        return OperationResult(Outcome.DONE, "SSO token revoked; signed out.")
