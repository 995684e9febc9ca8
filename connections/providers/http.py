"""The shared base of provider clients: one httpx.Client, auth, URL policy, call records, errors."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import httpx
from django.conf import settings

from connections import url_policy
from connections.exceptions import UrlRefused
from connections.providers.errors import generic_words, parse_retry_after, rate_headers, short
from connections.providers.fanout import FanOut
from connections.providers.ids import IdSyntax, path_segment
from connections.providers.tokens import TOKEN_CACHE
from connections.providers.transport import PinnedTransport
from connections.types import AccountState, CallRecord, ConnectorError, System, record_call

# Read timeout well under the worker's task timeout (Q_TIMEOUT 90 s), so a hung call fails first.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)


def default_timeout() -> httpx.Timeout:
    """DEFAULT_TIMEOUT with the read wait from settings.PORTAL_HTTP_TIMEOUT (what W001 checks)."""
    return httpx.Timeout(
        connect=5.0, read=float(settings.PORTAL_HTTP_TIMEOUT), write=10.0, pool=5.0
    )


DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=30)
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
USER_AGENT = "offboarding-portal/0.1"


@dataclass(frozen=True)
class ClientConfig:
    """What a client needs from a Connection. `secret` is kept out of repr."""

    connection_id: str
    secret_version: int
    api_base_url: str
    token_url: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    secret: Mapping[str, Any] = field(default_factory=dict, repr=False)
    extra_hosts: tuple[str, ...] = ()


class ProviderClient(FanOut):
    """Base client: one httpx.Client, auth header, URL policy, call records, error mapping;
    `delete_each` (from FanOut) removes several things side by side."""

    system: ClassVar[System]
    # Every id put into a URL path, by kind ("user", "group"...): see connections/providers/ids.py.
    id_syntax: ClassVar[Mapping[str, IdSyntax]]

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.config = config
        # Host name -> the addresses the URL policy checked before the last call to it.
        self._pins: dict[str, tuple[str, ...]] = {}
        self._http = httpx.Client(
            timeout=timeout or default_timeout(),
            limits=DEFAULT_LIMITS,
            trust_env=False,
            follow_redirects=False,
            transport=transport or PinnedTransport(self._pinned, limits=DEFAULT_LIMITS),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.config.connection_id}>"

    @property
    def uses_token_cache(self) -> bool:
        """Whether calls carry an access token from the token URL (on a 401, fetch a new one)."""
        return True

    def warm(self) -> None:
        """Fetch the access token now, ahead of the first call (ConnectorError as a call's)."""
        if self.uses_token_cache:
            self._authorization()

    def get_user(self, key: str) -> dict[str, Any]:
        """One user by the provider's own key; ConnectorError (404) when absent."""
        raise NotImplementedError

    def is_missing(self, exc: ConnectorError) -> bool:
        """Whether this error means "no such user" (providers add their own codes)."""
        return exc.status == 404

    def find_user(self, key: str) -> dict[str, Any] | None:
        """One user, or None when the system has no such user."""
        try:
            return self.get_user(key)
        except ConnectorError as exc:
            if self.is_missing(exc):
                return None
            raise

    def segment(self, value: object, kind: str = "user") -> str:
        """An id as one URL path segment: checked, percent-encoded; ConnectorError bad_id if not."""
        return path_segment(value, self.id_syntax[kind], self.system)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- auth ---------------------------------------------------------------------------------
    def _token_key(self) -> tuple[str, str, int]:
        # Settings (client id, scopes, admin to impersonate...) shape the token too.
        settings = json.dumps(dict(self.config.settings), sort_keys=True, default=str)
        fingerprint = hashlib.sha256(settings.encode()).hexdigest()[:16]
        return (
            self.system.value,
            f"{self.config.connection_id}:{fingerprint}",
            self.config.secret_version,
        )

    def _authorization(self) -> str:
        """The Authorization header value; subclasses with a static token override this."""
        return f"Bearer {TOKEN_CACHE.get_or_fetch(self._token_key(), self._fetch_token)}"

    def _auth_headers(self, method: str, url: str) -> dict[str, str]:
        """The headers that authenticate one API call (Okta adds a DPoP proof)."""
        return {"Authorization": self._authorization()}

    def _unauthorized(self, response: httpx.Response) -> None:
        """Before the one retry after a 401: forget the token (Okta may keep it for a nonce)."""
        TOKEN_CACHE.drop(self._token_key())

    def _fetch_token(self) -> tuple[str, float]:
        raise NotImplementedError

    def _token_request(
        self,
        *,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[str, float]:
        """POST to the token URL; return (access token, seconds it lives)."""
        body = self._token_answer(data=data, params=params, auth=auth, headers=headers)
        return str(body["access_token"]), float(body.get("expires_in", 3600))

    def _token_answer(
        self,
        *,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST to the token URL; return its JSON answer (it has an access token and lifetime)."""
        url = self.config.token_url
        start = time.perf_counter()
        response = self._send("POST", url, data=data, params=params, auth=auth, headers=headers)
        if response.is_error:
            error = self._token_error(response)
            self._record("POST", url, response.status_code, start, error)
            raise error
        self._record("POST", url, response.status_code, start)
        try:
            body = response.json()
            str(body["access_token"])
            float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise ConnectorError(
                f"{self.system.label}: the token endpoint answered without an access token.",
                system=self.system.value,
                status=response.status_code,
                code="bad_token_response",
            ) from None
        return dict(body)

    def _token_error(self, response: httpx.Response) -> ConnectorError:
        code, description = "", ""
        try:
            body = response.json()
            code = short(body.get("error", ""), 60) if isinstance(body, dict) else ""
            description = short(body.get("error_description", "")) if code else ""
        except ValueError:
            pass
        words = self._token_error_words(code, description)
        return ConnectorError(
            f"{self.system.label}: getting an access token failed: {words}"
            + (f" ({code})" if code else f" (HTTP {response.status_code})"),
            system=self.system.value,
            retryable=response.status_code == 429 or response.status_code >= 500,
            retry_after=parse_retry_after(response.headers),
            status=response.status_code,
            code=code or f"http_{response.status_code}",
        )

    def _token_error_words(self, code: str, description: str) -> str:
        return description or "the credential was refused"

    # --- transport ----------------------------------------------------------------------------
    def _check_url(self, url: str) -> None:
        """Check the URL against the policy; pin the checked addresses of its host for connecting."""
        parts = urlsplit(url)
        try:
            self._pins[(parts.hostname or "").lower()] = url_policy.connect_addresses(
                f"{parts.scheme}://{parts.netloc}",
                system=self.system,
                extra_hosts=self.config.extra_hosts,
            )
        except UrlRefused as exc:
            raise ConnectorError(
                f"{self.system.label}: the outbound URL was refused: {exc}",
                system=self.system.value,
                code="url_refused",
            ) from None

    def _pinned(self, host: str, port: int) -> tuple[str, ...]:
        """What the transport may connect to for `host`: only what _check_url checked."""
        return self._pins.get(host.lower(), ())

    def _record(
        self,
        method: str,
        url: str,
        status: int | None,
        start: float,
        error: Exception | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        remaining, reset = rate_headers(headers)
        record_call(
            CallRecord(
                system=self.system.value,
                method=method,
                path=urlsplit(url).path,
                status=status,
                duration_ms=round((time.perf_counter() - start) * 1000, 1),
                error_code=getattr(error, "code", "") if error else "",
                message=getattr(error, "message", "") if error else "",
                rate_remaining=remaining,
                rate_reset=reset,
            )
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self._check_url(url)
        start = time.perf_counter()
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            error = self._transport_error(exc, method)
            self._record(method, url, None, start, error)
            raise error from None

    def _transport_error(self, exc: httpx.HTTPError, method: str) -> ConnectorError:
        # Not sent at all: connect/pool problems. Sent, answer lost: read/write/protocol problems.
        not_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ConnectError)
        unknown = method in MUTATING_METHODS and not not_sent
        if isinstance(exc, httpx.TimeoutException):
            words = "could not connect in time" if not_sent else "no answer in time (timeout)"
            code = "timeout"
        else:
            words = "could not connect" if not_sent else "the connection dropped"
            code = "connection_error"
        if unknown:
            words += "; the change may or may not have been made"
        return ConnectorError(
            f"{self.system.label}: {words}.",
            system=self.system.value,
            retryable=True,
            code=code,
            outcome_unknown=unknown,
        )

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            base = urlsplit(self.config.api_base_url)
            link = urlsplit(path_or_url)
            if (link.scheme, link.netloc) != (base.scheme, base.netloc):
                raise ConnectorError(
                    f"{self.system.label}: refused to follow a link to another host.",
                    system=self.system.value,
                    code="foreign_link",
                )
            return path_or_url
        # A backstop for paths built without segment(): no dot-segment ever reaches the wire.
        if any(part in (".", "..") for part in unquote(path_or_url.split("?")[0]).split("/")):
            raise ConnectorError(
                f"{self.system.label}: refused a path with “.” or “..” in it.",
                system=self.system.value,
                code="bad_id",
            )
        return self.config.api_base_url.rstrip("/") + path_or_url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        resource: str = "resource",
    ) -> httpx.Response:
        """Send one API call with auth; on a 401 fetch a new token once; raise ConnectorError."""
        url = self._url(path)
        for attempt in (1, 2):
            headers = self._auth_headers(method, url)
            start = time.perf_counter()
            response = self._send(method, url, params=params, json=json, headers=headers)
            if response.status_code == 401 and attempt == 1 and self.uses_token_cache:
                self._record(method, url, 401, start)
                self._unauthorized(response)
                continue
            break
        if not response.is_success:  # redirects are not followed: they are errors too
            error = self.error_for(response, method=method, resource=resource)
            self._record(method, url, response.status_code, start, error, response.headers)
            raise error
        self._record(method, url, response.status_code, start, headers=response.headers)
        return response

    def get_json(
        self, path: str, *, params: Mapping[str, Any] | None = None, resource: str = "resource"
    ) -> Any:
        response = self.request("GET", path, params=params, resource=resource)
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"{self.system.label}: the answer was not JSON (HTTP {response.status_code}).",
                system=self.system.value,
                status=response.status_code,
                code="bad_response",
                retryable=response.status_code >= 500,
            ) from None

    # --- errors -------------------------------------------------------------------------------
    def error_for(self, response: httpx.Response, *, method: str, resource: str) -> ConnectorError:
        """Map an error answer to a ConnectorError with words a helpdesk agent understands."""
        try:
            body = response.json()
        except ValueError:
            body = None
        code, words = self._parse_error(
            response.status_code, body if isinstance(body, dict) else {}
        )
        status = response.status_code
        if not words:
            words = generic_words(status, resource)
        elif status == 404 and resource != "resource":
            words = f"{resource} not found"
        retryable = status in (408, 429) or status >= 500 or self._retryable_code(status, code)
        return ConnectorError(
            f"{self.system.label}: {words} ({code or f'HTTP {status}'})",
            system=self.system.value,
            retryable=retryable,
            retry_after=parse_retry_after(response.headers) if retryable else None,
            status=status,
            code=code or f"http_{status}",
        )

    def _parse_error(self, status: int, body: Mapping[str, Any]) -> tuple[str, str]:
        """(provider error code, short words) from an error body; subclasses know the shape."""
        return "", ""

    def _retryable_code(self, status: int, code: str) -> bool:
        return False

    # --- the contract every provider fulfils --------------------------------------------------
    def test_connection(self) -> str:
        """A harmless read; returns words saying what it proved. Raises ConnectorError."""
        raise NotImplementedError

    def account_state(self, account: str) -> AccountState:
        """The person's account in this system, read live."""
        raise NotImplementedError
