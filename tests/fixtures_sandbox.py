"""Pytest fixtures that run the sandbox in-process on a free loopback port."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx
import pytest

from connections.sandbox import assertions
from connections.sandbox.control import person_view
from connections.sandbox.server import SandboxConfig, SandboxServer, start_in_thread

GOOGLE_SCOPES = [
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
    "https://www.googleapis.com/auth/admin.directory.device.mobile.action",
]


@dataclass
class SandboxHandle:
    """What a test gets: URLs, credentials, the live state and helpers."""

    server: SandboxServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def app(self):
        return self.server.app

    @property
    def state(self):
        return self.server.app.state

    @property
    def org(self):
        return self.server.app.org

    @property
    def credentials(self) -> dict:
        return self.server.app.credentials

    def url(self, system: str, path: str = "") -> str:
        """API URL: url('okta', '/users') -> <base>/okta/api/v1/users."""
        prefix = {
            "okta": "/okta/api/v1",
            "google": "/google/admin/directory/v1",
            "zoom": "/zoom/v2",
            "graph": "/graph/v1.0",
            "control": "/_sandbox",
        }[system]
        return f"{self.base_url}{prefix}{path}"

    def token_url(self, system: str) -> str:
        tenant = self.credentials["graph"]["tenant_id"]
        path = {
            "okta": "/okta/oauth2/v1/token",
            "google": "/google/token",
            "zoom": "/zoom/oauth/token",
            "graph": f"/graph/login/{tenant}/oauth2/v2.0/token",
        }[system]
        return self.base_url + path

    def reset(self) -> None:
        self.server.app.reset()

    def effects(self, system: str | None = None, since: int = 0) -> list[dict]:
        return self.state.effects_since(since, system)

    def set_fault(self, system: str, **spec) -> None:
        self.server.app.faults.set(system, spec)

    def clear_faults(self) -> None:
        self.server.app.faults.clear()

    def person(self, email: str) -> dict:
        idx = self.org.find(email)
        if idx is None:
            raise KeyError(email)
        with self.state.lock:
            return person_view(self.server.app, idx)

    def set_token_ttl(self, seconds: int | None) -> None:
        self.state.token_ttl = seconds

    def token(self, system: str, scopes: list[str] | None = None) -> str:
        """Mint an access token through the real token endpoint."""
        creds = self.credentials
        url = self.token_url(system)
        if system == "okta":
            return self.okta_token(scopes)[0]
        elif system == "google":
            resp = httpx.post(url, data=assertions.google_form(creds, url, scopes or GOOGLE_SCOPES))
        elif system == "zoom":
            zoom = creds["zoom"]
            basic = base64.b64encode(
                f"{zoom['client_id']}:{zoom['client_secret']}".encode()
            ).decode()
            resp = httpx.post(
                url,
                params={"grant_type": "account_credentials", "account_id": zoom["account_id"]},
                headers={"Authorization": f"Basic {basic}"},
            )
        else:
            resp = httpx.post(url, data=assertions.graph_form(creds))
        resp.raise_for_status()
        return resp.json()["access_token"]

    def set_app(self, system: str, **fields) -> None:
        """What an app was granted (apps.py): set_app("okta", dpop=False, scopes=[...])."""
        with self.state.lock:
            self.state.apps[system].update(fields)

    def okta_token(self, scopes: list[str] | None = None) -> tuple[str, str | None]:
        """(access token, DPoP key PEM or None) through the real token endpoint, nonce and all."""
        creds, url = self.credentials, self.token_url("okta")
        key = assertions.dpop_key_pem() if self.state.okta_app["dpop"] else None
        nonce = None
        for _ in range(2):
            headers = {"DPoP": assertions.dpop_proof(key, "POST", url, nonce=nonce)} if key else {}
            resp = httpx.post(url, data=assertions.okta_form(creds, url, scopes), headers=headers)
            nonce = resp.headers.get("DPoP-Nonce")
            if resp.status_code != 400 or not nonce:
                break
        resp.raise_for_status()
        return resp.json()["access_token"], key

    def okta_dpop_headers(self, method: str, url: str, token: str, key: str) -> dict[str, str]:
        """Authorization and a new DPoP proof for one Okta API call with a DPoP-bound token."""
        proof = assertions.dpop_proof(key, method, url, access_token=token)
        return {"Authorization": f"DPoP {token}", "DPoP": proof}

    def headers(self, system: str, **kw) -> dict[str, str]:
        if system == "okta" and not kw:
            return {"Authorization": f"SSWS {self.credentials['okta']['api_token']}"}
        return {"Authorization": f"Bearer {self.token(system, **kw)}"}


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """One sandbox (200 people, seed 1) for the whole session, on a free loopback port."""
    data_dir = tmp_path_factory.mktemp("sandbox")
    server = start_in_thread(
        SandboxConfig(
            host="127.0.0.1", port=0, users=200, seed=1, data_dir=data_dir, hang_max_seconds=30
        )
    )
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    """The session sandbox, reset to the seed (state, faults, effect log, token TTL) for this test."""
    handle = SandboxHandle(sandbox_server)
    handle.reset()
    yield handle
    handle.reset()
