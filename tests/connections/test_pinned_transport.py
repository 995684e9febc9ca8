"""DNS rebinding: a client connects only to the address the URL policy checked, with TLS for the name."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field

import httpcore
import httpx
import pytest

from connections import url_policy
from connections.providers.okta.client import OktaClient
from connections.types import ConnectorError

from .conftest import PUBLIC_IP


class Rebinding:
    """A resolver that answers a public address first, then the given addresses."""

    def __init__(self, *later: str) -> None:
        self.answers = [PUBLIC_IP, *later]
        self.asked: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.asked.append(host)
        address = self.answers[min(len(self.asked), len(self.answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


class FakeStream(httpcore.NetworkStream):
    """A TCP stream whose TLS handshake records what it was asked, then fails (no network)."""

    def __init__(self, seen: dict) -> None:
        self.seen = seen

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        self.seen["server_hostname"] = server_hostname
        self.seen["check_hostname"] = ssl_context.check_hostname
        self.seen["verify_mode"] = ssl_context.verify_mode
        raise httpcore.ConnectError("handshake stopped by the test")

    def close(self) -> None:
        pass


@dataclass
class Connects:
    made: list[tuple[str, int]] = field(default_factory=list)
    tls: dict = field(default_factory=dict)


@pytest.fixture
def connects(monkeypatch) -> Connects:
    """Every TCP connect the real httpcore backend is asked for (none reaches the network)."""
    record = Connects()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        record.made.append((host, port))
        return FakeStream(record.tls)

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    return record


@pytest.mark.parametrize("second", ["127.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"])
def test_the_second_dns_answer_is_never_connected_to(okta_config, monkeypatch, connects, second):
    resolver = Rebinding(second)
    monkeypatch.setattr(url_policy, "resolver", resolver)
    client = OktaClient(okta_config("ssws"))  # the production transport
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    assert info.value.code == "connection_error"
    assert connects.made == [(PUBLIC_IP, 443)]  # the checked address, never a second lookup's
    assert resolver.asked == ["acme.okta.com"]
    # TLS is still for the host name: SNI and certificate checked against it.
    assert connects.tls == {
        "server_hostname": "acme.okta.com",
        "check_hostname": True,
        "verify_mode": ssl.CERT_REQUIRED,
    }

    # The next call checks again: the rebound answer is refused before any connection.
    with pytest.raises(ConnectorError) as info:
        client.get_user("00u1")
    assert info.value.code == "url_refused" and "private, loopback" in info.value.message
    assert connects.made == [(PUBLIC_IP, 443)]
    client.close()


def test_a_host_the_policy_did_not_check_is_never_connected_to(okta_config, connects):
    client = OktaClient(okta_config("ssws"))
    with pytest.raises(httpx.ConnectError, match="not checked by the URL policy"):
        client._http.get("https://acme.okta.com/api/v1/users")  # around _send and its check
    assert connects.made == []
    client.close()


def test_the_sandbox_loopback_host_is_its_own_address(settings):
    settings.PORTAL_SANDBOX = True
    from connections.types import System

    assert url_policy.connect_addresses("http://127.0.0.1:8100", system=System.OKTA) == (
        "127.0.0.1",
    )
