"""How the Okta client signs in: an SSWS API token, or the OAuth service app (with DPoP when on).

Service app (CONTRACTS.md §1.5 B, C): client credentials with a `private_key_jwt` assertion at the
org authorization server. With DPoP on, every token request and API call carries a new proof made
with the connection's own DPoP key; a `use_dpop_nonce` answer (400 at the token endpoint, 401 with
`WWW-Authenticate: DPoP error="use_dpop_nonce"` on an API call) is answered once with the nonce
from its `DPoP-Nonce` header. A token answered with `token_type: DPoP` is sent as
`Authorization: DPoP <token>` (a Bearer answer, from an app that does not bind tokens, as Bearer).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt

from connections.providers.errors import config_error
from connections.providers.http import ProviderClient
from connections.providers.okta.dpop import SECRET_KEY, DpopSigner
from connections.providers.tokens import TOKEN_CACHE, signing_key
from connections.types import ConnectorError

DEFAULT_SCOPES = (
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.manage",
    "okta.apps.manage",  # unassign apps; reinstate assigns them again (issue 13)
    "okta.devices.manage",  # suspend and deactivate devices (issue 13)
)
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NONCE_ERROR = "use_dpop_nonce"


def dpop_wanted(settings: Any) -> bool:
    """DPoP is on for OAuth connections unless the admin turned it off (settings["dpop"])."""
    return (
        str(settings.get("auth_mode") or "oauth") == "oauth" and settings.get("dpop") is not False
    )


class OktaAuth(ProviderClient):
    """The sign-in half of the Okta client (the API half is OktaClient)."""

    _dpop_signer: DpopSigner | None = None

    @property
    def _auth_mode(self) -> str:
        return str(self.config.settings.get("auth_mode") or "oauth")

    @property
    def uses_token_cache(self) -> bool:
        return self._auth_mode == "oauth"

    @property
    def dpop(self) -> DpopSigner | None:
        """The connection's proof maker, or None when DPoP is off or no DPoP key is stored."""
        if self._dpop_signer is None and dpop_wanted(self.config.settings):
            pem = self.config.secret.get(SECRET_KEY)
            if pem:
                self._dpop_signer = DpopSigner(str(pem), self.system)
        return self._dpop_signer

    # --- the Authorization header ----------------------------------------------------------
    def _authorization(self) -> str:
        """`SSWS <token>`, or `<token_type> <access token>` (Bearer or DPoP) from the cache."""
        if self._auth_mode == "ssws":
            token = self.config.secret.get("api_token")
            if not token:
                raise config_error(self.system, "no API token is stored.", "not_configured")
            return f"SSWS {token}"
        return TOKEN_CACHE.get_or_fetch(self._token_key(), self._fetch_token)

    def _auth_headers(self, method: str, url: str) -> dict[str, str]:
        authorization = self._authorization()
        headers = {"Authorization": authorization}
        scheme, _, token = authorization.partition(" ")
        if scheme == "DPoP":
            signer = self.dpop
            if signer is None:  # a DPoP token in the cache, but DPoP turned off since
                TOKEN_CACHE.drop(self._token_key())
                return self._auth_headers(method, url)
            headers["DPoP"] = signer.proof(method, url, server="api", access_token=token)
        return headers

    def _unauthorized(self, response: httpx.Response) -> None:
        challenge = response.headers.get("WWW-Authenticate", "")
        nonce = response.headers.get("DPoP-Nonce", "")
        if self.dpop and NONCE_ERROR in challenge and nonce:
            self.dpop.remember_nonce("api", nonce)  # the token is fine: retry with the nonce
            return
        super()._unauthorized(response)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = super()._send(method, url, **kwargs)
        nonce = response.headers.get("DPoP-Nonce")
        if nonce and self.dpop is not None:
            server = "token" if url == self.config.token_url else "api"
            self.dpop.remember_nonce(server, nonce)
        return response

    # --- the token request ------------------------------------------------------------------
    def _assertion(self) -> str:
        settings, secret = self.config.settings, self.config.secret
        client_id, key = settings.get("client_id"), secret.get("private_key_pem")
        if not client_id or not key:
            raise config_error(
                self.system, "the service app's client id or private key is missing."
            )
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": self.config.token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        headers = {"kid": settings["key_id"]} if settings.get("key_id") else None
        private_key, algorithm = signing_key(key, self.system)
        return jwt.encode(claims, private_key, algorithm=algorithm, headers=headers)

    def _fetch_token(self) -> tuple[str, float]:
        """A token as "<token_type> <access token>"; with DPoP, one retry on use_dpop_nonce."""
        scopes = self.config.settings.get("scopes") or DEFAULT_SCOPES
        signer = self.dpop
        for attempt in (1, 2):
            form = {
                "grant_type": "client_credentials",
                "scope": " ".join(scopes),
                "client_assertion_type": JWT_BEARER,
                "client_assertion": self._assertion(),  # new jti on every attempt
            }
            headers = None
            if signer is not None:
                url = self.config.token_url
                headers = {"DPoP": signer.proof("POST", url, server="token")}
            try:
                body = self._token_answer(data=form, headers=headers)
            except ConnectorError as exc:
                if exc.code == NONCE_ERROR and signer is not None and attempt == 1:
                    continue  # _send kept the DPoP-Nonce header's value
                raise
            bound = str(body.get("token_type")).lower() == "dpop"
            if bound and signer is None:
                raise ConnectorError(
                    f"{self.system.label}: the token endpoint answered a DPoP token without a "
                    "DPoP proof.",
                    system=self.system.value,
                    code="bad_token_response",
                )
            scheme = "DPoP" if bound else "Bearer"
            return f"{scheme} {body['access_token']}", float(body.get("expires_in", 3600))
        raise AssertionError("unreachable")  # pragma: no cover

    def _token_error_words(self, code: str, description: str) -> str:
        if code in ("invalid_dpop_proof", NONCE_ERROR):
            if self.dpop is None:
                return (
                    "the service app requires DPoP: tick “Use DPoP” on this connection and save "
                    "it (the portal makes the DPoP key itself)"
                )
            return f"the DPoP proof was refused: {description or code}"
        if code == "invalid_scope":
            return (
                "a requested scope is not granted to the service app: grant it on the app's "
                "“Okta API Scopes” tab, or remove it from this connection's scopes"
            )
        if code == "invalid_client":
            return "the client id, key id or private key was refused"
        return super()._token_error_words(code, description)
