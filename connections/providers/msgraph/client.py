"""Microsoft Graph client (client credentials, secret or certificate): users and sessions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from connections.providers.errors import config_error
from connections.providers.http import ProviderClient
from connections.providers.ids import IdSyntax
from connections.providers.tokens import signing_key
from connections.types import AccountState, ConnectorError, OperationResult, Outcome, System

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
USER_FIELDS = "id,userPrincipalName,mail,displayName,accountEnabled,onPremisesSyncEnabled,signInSessionsValidFromDateTime"
# Entra roles that may change sensitive properties of privileged people (CONTRACTS.md §4.1).
PRIVILEGED_ROLES = frozenset(
    {
        "Global Administrator",
        "Privileged Authentication Administrator",
        "Privileged Role Administrator",
    }
)
_CODE_WORDS = {
    "Authorization_RequestDenied": (
        "Insufficient privileges: Microsoft refused the change. The app lacks the permission for "
        "it, or the person holds a privileged Entra role and the app holds no role high "
        "enough (Privileged Authentication Administrator or Global Administrator) to change them"
    ),
}


class MicrosoftGraphClient(ProviderClient):
    """Microsoft Graph v1.0 as an Entra ID app with application permissions."""

    system = System.MSGRAPH
    id_syntax = {
        # An object id, or a user principal name; a guest's has "#EXT#" in it (sent as %23EXT%23).
        "user": IdSyntax(
            r"[A-Za-z0-9'._!#^~+-]+(?:@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)?",
            "a Microsoft 365 user id or user principal name",
            max_length=113,
        ),
        "device": IdSyntax(r"[0-9A-Fa-f-]{36}", "a Microsoft 365 device object id"),
    }

    def _fetch_token(self) -> tuple[str, float]:
        settings, secret = self.config.settings, self.config.secret
        client_id = settings.get("client_id")
        if not client_id or not settings.get("tenant_id"):
            raise config_error(self.system, "the tenant id or client id is missing.")
        data = {"client_id": client_id, "scope": GRAPH_SCOPE, "grant_type": "client_credentials"}
        if settings.get("auth_mode") == "certificate":
            data["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            data["client_assertion"] = self._assertion(client_id, secret)
        elif secret.get("client_secret"):
            data["client_secret"] = secret["client_secret"]
        else:
            raise config_error(self.system, "no client secret is stored.")
        return self._token_request(data=data)

    def _assertion(self, client_id: str, secret: Mapping[str, Any]) -> str:
        key, _ = signing_key(secret.get("private_key_pem", ""), self.system)
        thumbprint = _thumbprint(
            secret.get("certificate_pem", ""), self.config.settings.get("thumbprint", "")
        )
        if not thumbprint:
            raise config_error(self.system, "the certificate or its SHA-256 thumbprint is missing.")
        now = int(time.time())
        claims = {
            "aud": self.config.token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid.uuid4().hex,
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        }
        return jwt.encode(claims, key, algorithm="PS256", headers={"x5t#S256": thumbprint})

    def _token_error_words(self, code: str, description: str) -> str:
        if code == "invalid_client":
            return (
                "the client secret or certificate was refused (expired, or not uploaded to the app)"
            )
        if code == "unauthorized_client":
            return "the app is not known in this tenant"
        return super()._token_error_words(code.split(":")[0], description.split(" Trace ID")[0])

    def _parse_error(self, status: int, body: Mapping[str, Any]) -> tuple[str, str]:
        error = body.get("error")
        if not isinstance(error, dict):
            return "", ""
        code = str(error.get("code") or "")[:60]
        if code in _CODE_WORDS:
            return code, _CODE_WORDS[code]
        return code, " ".join(str(error.get("message") or "").split())[:160]

    def _user_path(self, user: str) -> str:
        return f"/users/{self.segment(user)}"

    def get_user(self, user: str) -> dict[str, Any]:
        """One user by id or UPN, with accountEnabled and sync state; 404 when absent."""
        return self.get_json(
            self._user_path(user), params={"$select": USER_FIELDS}, resource="user"
        )

    def account_state(self, account: str) -> AccountState:
        user = self.find_user(account)
        if user is None:
            return AccountState(exists=False, detail="No Microsoft 365 user with this name.")
        enabled = bool(user.get("accountEnabled"))
        synced = "Synchronised from on-premises AD." if user.get("onPremisesSyncEnabled") else ""
        return AccountState(
            exists=True,
            state="enabled" if enabled else "disabled",
            locked_out=not enabled,
            account_id=str(user.get("id", "")),
            detail=" ".join(filter(None, (self._privilege_warning(account), synced))),
        )

    def _privilege_warning(self, account: str) -> str:
        roles = self.privileged_roles(account)
        if not roles:
            return ""
        return (
            f"Holds the privileged Entra role {', '.join(roles)}: Microsoft lets an app disable "
            "this person only when the app itself holds Privileged Authentication Administrator "
            "or Global Administrator; otherwise the disable step fails (403)."
        )

    def test_connection(self) -> str:
        mode = "certificate" if self.config.settings.get("auth_mode") == "certificate" else "secret"
        body = self.get_json("/users", params={"$top": 1, "$select": "id"}, resource="user list")
        count = len(body.get("value") or [])
        return f"Got an app token with the client {mode} and listed users ({count} returned): users can be read."

    def privileged_roles(self, user: str) -> list[str] | None:
        """The privileged Entra roles the person holds directly; None when they cannot be read."""
        try:
            body = self.get_json(
                f"{self._user_path(user)}/memberOf/microsoft.graph.directoryRole",
                params={"$select": "displayName,roleTemplateId"},
                resource="user",
            )
        except ConnectorError as exc:
            if exc.status in (403, 404):  # no Directory.Read.All, or no such user
                return None
            raise
        names = [str(r.get("displayName") or "") for r in body.get("value") or []]
        return [n for n in names if n in PRIVILEGED_ROLES]

    def _set_enabled(self, user: str, enabled: bool) -> OperationResult:
        """One PATCH by id or user principal name; a 400 is read back; 404: no account.

        Graph answers 204 whether or not the account already was so (CONTRACTS.md §4.1): a read
        first would cost a call on the lockout's path, so this reports done either way. A 400 is
        what Graph answers for an account mastered on-premises: only then is the account read,
        to say so in words (or that it already is as wanted).
        """
        try:
            self.request(
                "PATCH", self._user_path(user), json={"accountEnabled": enabled}, resource="user"
            )
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(Outcome.NO_ACCOUNT, "No Microsoft 365 user with this name.")
            if exc.status != 400:
                raise
            found = self.find_user(user)
            if found is None:
                return OperationResult(Outcome.NO_ACCOUNT, "No Microsoft 365 user with this name.")
            if bool(found.get("accountEnabled")) == enabled:
                return OperationResult(
                    Outcome.ALREADY_DONE, "Already enabled." if enabled else "Already disabled."
                )
            if found.get("onPremisesSyncEnabled"):
                raise ConnectorError(
                    "Microsoft 365: this account is synchronised from on-premises Active "
                    "Directory; change it there.",
                    system=self.system.value,
                    code="on_premises_synced",
                ) from None
            raise
        return OperationResult(Outcome.DONE, "Enabled." if enabled else "Disabled.")

    def disable_user(self, user: str) -> OperationResult:
        """Block sign-in (accountEnabled=false); already disabled means done."""
        return self._set_enabled(user, False)

    def enable_user(self, user: str) -> OperationResult:
        """Allow sign-in again (accountEnabled=true); already enabled means done."""
        return self._set_enabled(user, True)

    def revoke_sessions(self, user: str) -> OperationResult:
        """Invalidate refresh tokens and session cookies (repeatable; takes minutes to apply)."""
        try:
            self.request("POST", f"{self._user_path(user)}/revokeSignInSessions", resource="user")
        except ConnectorError as exc:
            if exc.status == 404:
                return OperationResult(Outcome.NO_ACCOUNT, "No Microsoft 365 user with this name.")
            raise
        return OperationResult(Outcome.DONE, "Sign-in sessions revoked.")


def _thumbprint(certificate_pem: str, configured: str) -> str:
    """base64url SHA-256 of the certificate (from the PEM when stored, else the setting)."""
    if certificate_pem:
        try:
            cert = x509.load_pem_x509_certificate(certificate_pem.encode("utf-8"))
        except ValueError:
            raise config_error(
                System.MSGRAPH, "the stored certificate is not a readable PEM."
            ) from None
        digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return thumbprint_to_b64url(configured)


def thumbprint_to_b64url(value: str) -> str:
    """Accept a SHA-256 thumbprint as hex (with or without colons) or base64url."""
    cleaned = value.strip().replace(":", "")
    if len(cleaned) == 64:
        try:
            return base64.urlsafe_b64encode(bytes.fromhex(cleaned)).rstrip(b"=").decode("ascii")
        except ValueError:
            pass
    if cleaned:
        try:
            if len(base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))) == 32:
                return cleaned.rstrip("=")
        except (binascii.Error, ValueError):
            pass
    return ""
