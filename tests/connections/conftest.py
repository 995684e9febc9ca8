"""Fixtures for connection tests: fake DNS, mock HTTP routers, keys and ready-made clients."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connections import registry, url_policy
from connections.providers.google.client import GoogleWorkspaceClient
from connections.providers.http import ClientConfig
from connections.providers.msgraph.client import MicrosoftGraphClient
from connections.providers.okta.client import OktaClient
from connections.providers.tokens import TOKEN_CACHE
from connections.providers.zoom.client import ZoomClient
from tests.spec_transport import SpecTransport

PUBLIC_IP = "93.184.216.34"
CANARY = "CANARY-s3cr3t-7f1d0c9e"

# Names the fake DNS answers with private or loopback addresses.
PRIVATE_NAMES = {
    "internal.okta.com": "10.0.0.5",
    "rebind.okta.com": "127.0.0.1",
    "linklocal.okta.com": "169.254.169.254",
    "mapped.okta.com": "::ffff:127.0.0.1",
    "v6private.okta.com": "fd00::1",
}


def fake_getaddrinfo(host, port, *args, **kwargs):
    if host in ("nxdomain.okta.com",):
        raise socket.gaierror("Name or service not known")
    address = PRIVATE_NAMES.get(host, PUBLIC_IP)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture(autouse=True)
def _fake_dns_and_clean_caches(monkeypatch):
    monkeypatch.setattr(url_policy, "resolver", fake_getaddrinfo)
    TOKEN_CACHE.clear()
    registry.reset_clients()
    yield
    registry.reset_clients()
    registry.transport = None
    TOKEN_CACHE.clear()


@pytest.fixture(scope="session")
def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(assert_all_called=False)


@pytest.fixture
def transport(router) -> httpx.BaseTransport:
    """The mock behind the clients, with every request checked against the API specs first."""
    return SpecTransport(httpx.MockTransport(router.handler))


def token_response(token: str = "at-1", expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(
        200, json={"token_type": "Bearer", "expires_in": expires_in, "access_token": token}
    )


def okta_error(status: int, code: str, summary: str, causes: list[str] | None = None, **headers):
    body = {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae123",
        "errorCauses": [{"errorSummary": c} for c in causes or []],
    }
    return httpx.Response(status, json=body, headers=headers)


def okta_user(user_id: str = "00u1", status: str = "ACTIVE", login: str = "ann@acme.com") -> dict:
    return {
        "id": user_id,
        "status": status,
        "profile": {"login": login, "email": login, "firstName": "Ann", "lastName": "Lee"},
        "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {},
    }


@pytest.fixture
def okta_config(rsa_pem) -> Callable[..., ClientConfig]:
    def make(mode: str = "oauth", **settings) -> ClientConfig:
        return ClientConfig(
            connection_id="c-okta",
            secret_version=1,
            api_base_url="https://acme.okta.com/api/v1",
            token_url="https://acme.okta.com/oauth2/v1/token",
            settings={"auth_mode": mode, "client_id": "0oa1", "key_id": "kid1", **settings},
            secret={"api_token": CANARY, "private_key_pem": rsa_pem},
        )

    return make


@pytest.fixture
def google_config(rsa_pem) -> ClientConfig:
    return ClientConfig(
        connection_id="c-google",
        secret_version=1,
        api_base_url="https://admin.googleapis.com",
        token_url="https://oauth2.googleapis.com/token",
        settings={"admin_email": "admin@acme.com"},
        secret={
            "service_account": {
                "type": "service_account",
                "private_key_id": "pk1",
                "private_key": rsa_pem,
                "client_email": "sa@proj.iam.gserviceaccount.com",
            }
        },
    )


@pytest.fixture
def zoom_config() -> ClientConfig:
    return ClientConfig(
        connection_id="c-zoom",
        secret_version=1,
        api_base_url="https://api.zoom.us/v2",
        token_url="https://zoom.us/oauth/token",
        settings={"account_id": "acc1", "client_id": "zc1"},
        secret={"client_secret": CANARY},
    )


@pytest.fixture
def graph_config() -> ClientConfig:
    return ClientConfig(
        connection_id="c-graph",
        secret_version=1,
        api_base_url="https://graph.microsoft.com/v1.0",
        token_url="https://login.microsoftonline.com/tenant1/oauth2/v2.0/token",
        settings={"tenant_id": "tenant1", "client_id": "app1", "auth_mode": "secret"},
        secret={"client_secret": CANARY},
    )


def form_of(request: httpx.Request) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(request.content.decode()))


def json_of(request: httpx.Request) -> dict:
    return json.loads(request.content or b"null")


# --- Clients of the four providers over the mocked transport (issue 13's steps, side by side) ---


@pytest.fixture
def okta_client(okta_config, transport):
    return OktaClient(okta_config(mode="ssws"), transport=transport)


@pytest.fixture
def google_client(google_config, router, transport):
    router.post("https://oauth2.googleapis.com/token").mock(return_value=token_response("g"))
    return GoogleWorkspaceClient(google_config, transport=transport)


@pytest.fixture
def graph_client(graph_config, router, transport):
    router.post(graph_config.token_url).mock(return_value=token_response("m"))
    return MicrosoftGraphClient(graph_config, transport=transport)


@pytest.fixture
def zoom_client(zoom_config, router, transport):
    router.post(zoom_config.token_url).mock(return_value=token_response("z"))
    return ZoomClient(zoom_config, transport=transport)


class Together:
    """Answers given only once `parties` requests wait at the same time: calls sent one after
    another break the barrier (each waits 10 s at most)."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)

    def answer(self, response: httpx.Response):
        def side_effect(request: httpx.Request) -> httpx.Response:
            self.barrier.wait()
            return response

        return side_effect

    @property
    def met(self) -> bool:
        return not self.barrier.broken
