"""Google Workspace Admin SDK Directory client: users, sign-out, OAuth tokens, app passwords."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

from connections.providers.errors import config_error
from connections.providers.http import ProviderClient
from connections.providers.ids import EMAIL, IdSyntax
from connections.providers.tokens import signing_key
from connections.types import AccountState, ConnectorError, OperationResult, Outcome, System

SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
    "https://www.googleapis.com/auth/admin.directory.device.mobile.action",
)
DIRECTORY = "/admin/directory/v1"
RETRYABLE_REASONS = frozenset(
    {"userRateLimitExceeded", "quotaExceeded", "rateLimitExceeded", "backendError"}
)


class GoogleWorkspaceClient(ProviderClient):
    """Directory API as a service account with domain-wide delegation, impersonating an admin."""

    system = System.GOOGLE
    id_syntax = {
        "user": IdSyntax(rf"{EMAIL}|[0-9]{{1,32}}", "a Google user's email address or id"),
        "tokens": IdSyntax(r"[A-Za-z0-9._~:-]+", "a Google OAuth client id"),
        "asps": IdSyntax(r"[0-9]{1,10}", "a Google app password id"),
        "device": IdSyntax(r"[A-Za-z0-9_-]{1,128}", "a Google mobile device resource id"),
        "customer": IdSyntax(r"[A-Za-z0-9_]{1,64}", "a Google customer id"),
    }

    def _fetch_token(self) -> tuple[str, float]:
        account = self.config.secret.get("service_account") or {}
        admin = self.config.settings.get("admin_email")
        if not account.get("private_key") or not account.get("client_email") or not admin:
            raise config_error(
                self.system, "the service-account key or the admin to impersonate is missing."
            )
        now = int(time.time())
        claims = {
            "iss": account["client_email"],
            "sub": admin,
            "scope": " ".join(SCOPES),
            "aud": self.config.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        key, algorithm = signing_key(account["private_key"], self.system)
        headers = {"kid": account["private_key_id"]} if account.get("private_key_id") else None
        assertion = jwt.encode(claims, key, algorithm=algorithm, headers=headers)
        return self._token_request(
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            }
        )

    def _token_error_words(self, code: str, description: str) -> str:
        if code == "unauthorized_client":
            return "domain-wide delegation is not set up for the service account and these scopes"
        if code == "invalid_grant":
            return "the admin to impersonate, the clock or the key was refused"
        return super()._token_error_words(code, description)

    def _parse_error(self, status: int, body: Mapping[str, Any]) -> tuple[str, str]:
        error = body.get("error")
        if not isinstance(error, dict):
            return "", ""
        reasons = [e.get("reason", "") for e in error.get("errors") or [] if isinstance(e, dict)]
        code = str(reasons[0] if reasons else error.get("status") or "")[:40]
        return code, " ".join(str(error.get("message") or "").split())[:160]

    def _retryable_code(self, status: int, code: str) -> bool:
        return code in RETRYABLE_REASONS

    def user_path(self, user_key: str) -> str:
        """The Directory path of one user (checked and percent-encoded)."""
        return self._user_path(user_key)

    def _user_path(self, user_key: str) -> str:
        return f"{DIRECTORY}/users/{self.segment(user_key)}"

    # --- reads --------------------------------------------------------------------------------
    def get_user(self, user_key: str) -> dict[str, Any]:
        """One user by primary email, alias or id; ConnectorError notFound when absent."""
        return self.get_json(self._user_path(user_key), resource="user")

    def account_state(self, account: str) -> AccountState:
        user = self.find_user(account)
        if user is None:
            return AccountState(exists=False, detail="No Google Workspace user with this address.")
        suspended = bool(user.get("suspended"))
        return AccountState(
            exists=True,
            state="suspended" if suspended else "active",
            locked_out=suspended,
            account_id=str(user.get("id", "")),
        )

    def test_connection(self) -> str:
        admin = self.config.settings.get("admin_email", "")
        user = self.get_user(admin)
        return (
            f"Impersonated {user.get('primaryEmail', admin)} through domain-wide delegation "
            "and read their account: users can be read."
        )

    # --- changes ------------------------------------------------------------------------------
    def _set_suspended(self, user_key: str, suspended: bool) -> OperationResult:
        """One PUT (Google recommends update, with patch semantics, over PATCH); 404: no account.

        Google answers 200 with the user as it now is, the same whether or not the account
        already was so (CONTRACTS.md §2.1): a read first would cost a call on the lockout's path,
        so this reports done either way.
        """
        try:
            self.request(
                "PUT", self._user_path(user_key), json={"suspended": suspended}, resource="user"
            )
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(
                    Outcome.NO_ACCOUNT, "No Google Workspace user with this address."
                )
            raise
        return OperationResult(Outcome.DONE, "Suspended." if suspended else "Unsuspended.")

    def suspend_user(self, user_key: str) -> OperationResult:
        """Suspend the account; an already suspended one is already done."""
        return self._set_suspended(user_key, True)

    def unsuspend_user(self, user_key: str) -> OperationResult:
        """Lift the suspension; an active account is already done."""
        return self._set_suspended(user_key, False)

    def sign_out(self, user_key: str) -> OperationResult:
        """Sign the user out of every web and device session (repeatable)."""
        try:
            self.request("POST", f"{self._user_path(user_key)}/signOut", resource="user")
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(
                    Outcome.NO_ACCOUNT, "No Google Workspace user with this address."
                )
            raise
        return OperationResult(Outcome.DONE, "Signed out of all sessions.")

    def _delete_each(self, user_key: str, kind: str, id_field: str, what: str) -> OperationResult:
        try:
            items = (
                self.get_json(f"{self._user_path(user_key)}/{kind}", resource="user").get("items")
                or []
            )
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(
                    Outcome.NO_ACCOUNT, "No Google Workspace user with this address."
                )
            raise
        if not items:
            return OperationResult(Outcome.ALREADY_DONE, f"No {what} to remove.")
        base = self._user_path(user_key)
        # The removals are independent: side by side (fan_out); a 404 means already gone.
        self.delete_each(
            [f"{base}/{kind}/{self.segment(item[id_field], kind)}" for item in items],
            resource=what,
        )
        return OperationResult(Outcome.DONE, f"Removed {len(items)} {what}.")

    def revoke_oauth_tokens(self, user_key: str) -> OperationResult:
        """Delete the OAuth tokens the user granted to every third-party app."""
        return self._delete_each(user_key, "tokens", "clientId", "app token(s)")

    def delete_app_passwords(self, user_key: str) -> OperationResult:
        """Delete every app-specific password of the user."""
        return self._delete_each(user_key, "asps", "codeId", "app password(s)")
