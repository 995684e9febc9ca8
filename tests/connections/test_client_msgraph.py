"""MicrosoftGraphClient against Graph-shaped payloads (spec: microsoft-graph.yaml, CONTRACTS.md §4)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from connections.providers.msgraph.client import MicrosoftGraphClient, thumbprint_to_b64url
from connections.types import ConnectorError, Outcome

from .conftest import CANARY, form_of, json_of, token_response

TOKEN = "https://login.microsoftonline.com/tenant1/oauth2/v2.0/token"
USERS = "https://graph.microsoft.com/v1.0/users"
NOT_FOUND = httpx.Response(
    404,
    json={
        "error": {
            "code": "Request_ResourceNotFound",
            "message": "Resource 'ann@acme.com' does not exist or one of its queried reference-property objects are not present.",
            "innerError": {
                "date": "2026-01-01T00:00:00",
                "request-id": "r1",
                "client-request-id": "c1",
            },
        }
    },
)


@pytest.fixture
def client(graph_config, router, transport):
    router.post(TOKEN).mock(return_value=token_response("m-token"))
    return MicrosoftGraphClient(graph_config, transport=transport)


def _user(router, enabled=True, synced=None):
    return router.get(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "m1",
                "userPrincipalName": "ann@acme.com",
                "accountEnabled": enabled,
                "onPremisesSyncEnabled": synced,
            },
        )
    )


def test_client_secret_grant(client, router):
    route = _user(router)
    client.get_user("ann@acme.com")
    form = form_of(router.routes[0].calls[0].request)
    assert form == {
        "client_id": "app1",
        "scope": "https://graph.microsoft.com/.default",
        "grant_type": "client_credentials",
        "client_secret": CANARY,
    }
    assert "accountEnabled" in route.calls[0].request.url.params["$select"]


def test_certificate_assertion_carries_x5t_s256(graph_config, rsa_pem, router, transport):
    key = serialization.load_pem_private_key(rsa_pem.encode(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    expected = (
        base64.urlsafe_b64encode(
            hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
        )
        .rstrip(b"=")
        .decode()
    )
    config = replace(
        graph_config,
        settings={**graph_config.settings, "auth_mode": "certificate"},
        secret={"private_key_pem": rsa_pem, "certificate_pem": cert_pem},
    )
    token = router.post(TOKEN).mock(return_value=token_response())
    _user(router)
    MicrosoftGraphClient(config, transport=transport).get_user("ann@acme.com")
    form = form_of(token.calls[0].request)
    assert "client_secret" not in form
    header = jwt.get_unverified_header(form["client_assertion"])
    assert header["x5t#S256"] == expected and header["alg"] == "PS256"
    claims = jwt.decode(
        form["client_assertion"], key.public_key(), algorithms=["PS256"], audience=TOKEN
    )
    assert claims["iss"] == claims["sub"] == "app1"


def test_thumbprint_accepts_hex_and_base64url():
    digest = hashlib.sha256(b"x").digest()
    b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert thumbprint_to_b64url(digest.hex().upper()) == b64
    assert thumbprint_to_b64url(":".join(f"{b:02x}" for b in digest)) == b64
    assert thumbprint_to_b64url(b64) == b64
    assert thumbprint_to_b64url("nonsense") == ""


HYBRID = httpx.Response(
    400,
    json={
        "error": {
            "code": "Request_BadRequest",
            "message": "Unable to update the specified properties for on-premises mastered "
            "Directory Sync objects or objects currently undergoing migration.",
        }
    },
)


def _api_calls(router) -> list[tuple[str, str]]:
    return [
        (c.request.method, c.request.url.path)
        for c in router.calls
        if not str(c.request.url).startswith(TOKEN)
    ]


def test_disable_is_one_patch_by_user_principal_name(client, router):
    read = _user(router)
    route = router.patch(f"{USERS}/ann@acme.com").mock(return_value=httpx.Response(204))
    assert client.disable_user("ann@acme.com").outcome == Outcome.DONE
    assert json_of(route.calls[0].request) == {"accountEnabled": False}
    assert not read.called  # Graph takes the UPN in the URL: no lookup, no read first
    assert _api_calls(router) == [("PATCH", "/v1.0/users/ann@acme.com")]


def test_disable_disabled_user_is_done_as_graph_cannot_tell(client, router):
    # Graph answers a repeat with 204 too (harmless, CONTRACTS.md §4.1): done, one call.
    route = router.patch(f"{USERS}/ann@acme.com").mock(return_value=httpx.Response(204))
    assert client.disable_user("ann@acme.com").outcome == Outcome.DONE
    assert route.call_count == 1


def test_disable_on_premises_synced_user_is_a_clear_permanent_error(client, router):
    patch = router.patch(f"{USERS}/ann@acme.com").mock(return_value=HYBRID)
    _user(router, synced=True)
    with pytest.raises(ConnectorError) as info:
        client.disable_user("ann@acme.com")
    assert "on-premises" in info.value.message and not info.value.retryable
    assert info.value.code == "on_premises_synced" and patch.call_count == 1
    assert [m for m, _ in _api_calls(router)] == ["PATCH", "GET"]  # read only after the 400


def test_disable_synced_user_already_disabled_is_already_done(client, router):
    router.patch(f"{USERS}/ann@acme.com").mock(return_value=HYBRID)
    _user(router, enabled=False, synced=True)
    assert client.disable_user("ann@acme.com").outcome == Outcome.ALREADY_DONE


def test_enable(client, router):
    route = router.patch(f"{USERS}/ann@acme.com").mock(return_value=httpx.Response(204))
    assert client.enable_user("ann@acme.com").outcome == Outcome.DONE
    assert json_of(route.calls[0].request) == {"accountEnabled": True}
    assert len(_api_calls(router)) == 1


def test_revoke_sessions_accepts_the_documented_200(client, router):
    route = router.post(f"{USERS}/ann@acme.com/revokeSignInSessions").mock(
        return_value=httpx.Response(
            200,
            json={
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean",
                "value": True,
            },
        )
    )
    assert client.revoke_sessions("ann@acme.com").outcome == Outcome.DONE and route.called


def test_missing_user(client, router):
    router.get(f"{USERS}/ann@acme.com").mock(return_value=NOT_FOUND)
    router.patch(f"{USERS}/ann@acme.com").mock(return_value=NOT_FOUND)
    router.post(f"{USERS}/ann@acme.com/revokeSignInSessions").mock(return_value=NOT_FOUND)
    assert client.disable_user("ann@acme.com").outcome == Outcome.NO_ACCOUNT
    assert client.revoke_sessions("ann@acme.com").outcome == Outcome.NO_ACCOUNT
    assert [m for m, _ in _api_calls(router)] == ["PATCH", "POST"]  # the 404s say it: no read
    with pytest.raises(ConnectorError) as info:
        client.get_user("ann@acme.com")
    assert info.value.message == "Microsoft 365: user not found (Request_ResourceNotFound)"


def test_insufficient_privileges(client, router):
    read = _user(router)
    router.patch(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(
            403,
            json={
                "error": {
                    "code": "Authorization_RequestDenied",
                    "message": "Insufficient privileges to complete the operation.",
                }
            },
        )
    )
    with pytest.raises(ConnectorError) as info:
        client.disable_user("ann@acme.com")
    assert info.value.code == "Authorization_RequestDenied" and not info.value.retryable
    assert "Insufficient privileges" in info.value.message
    assert not read.called  # a 403 is not followed by a read


@pytest.mark.parametrize("status", [429, 503, 504])
def test_throttling_honours_retry_after(client, router, status):
    router.get(f"{USERS}/ann@acme.com").mock(
        return_value=httpx.Response(
            status,
            json={"error": {"code": "TooManyRequests", "message": "Too many"}},
            headers={"Retry-After": "5"},
        )
    )
    with pytest.raises(ConnectorError) as info:
        client.get_user("ann@acme.com")
    assert info.value.retryable and info.value.retry_after == 5.0


def test_token_error_is_in_words(graph_config, router, transport):
    router.post(TOKEN).mock(
        return_value=httpx.Response(
            401,
            json={
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Trace ID: x",
                "error_codes": [7000215],
            },
        )
    )
    with pytest.raises(ConnectorError) as info:
        MicrosoftGraphClient(graph_config, transport=transport).get_user("ann@acme.com")
    assert "client secret or certificate was refused" in info.value.message
    assert CANARY not in info.value.message
