"""DPoP for the Okta connection: the key made on save, proofs on every call, nonces, refusals in words."""

from __future__ import annotations

import base64
import hashlib

import httpx
import jwt
import pytest

from connections import registry, services
from connections.management.commands.configure_sandbox_connections import sandbox_connections
from connections.models import Connection
from connections.providers.okta.client import OktaClient
from connections.providers.okta.dpop import SECRET_KEY, new_key_pem
from connections.types import ConnectorError, System, capture_calls
from tests.connections.conftest import okta_user

ALICE = "alice.anders@acme.example"
TOKEN_URL = "https://acme.okta.com/oauth2/v1/token"


def _okta_spec(sandbox, **settings):
    spec = sandbox_connections(sandbox.base_url, sandbox.credentials)[System.OKTA]
    return {**spec["settings"], **settings}, spec["secret"]


def _save(sandbox, **settings) -> Connection:
    values, secret = _okta_spec(sandbox, **settings)
    result = services.connection_save(
        system=System.OKTA, actor=None, label="", settings=values, secret=secret
    )
    services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)
    return result.connection


@pytest.mark.django_db
def test_saving_an_oauth_connection_makes_one_dpop_key_kept_encrypted(sandbox, settings):
    settings.PORTAL_SANDBOX = True
    connection = _save(sandbox)
    pem = connection.decrypt_secret()[SECRET_KEY]
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE KEY" not in connection.secret_ciphertext
    assert SECRET_KEY not in connection.settings
    again = _save(sandbox, scopes=["okta.users.read", "okta.users.manage"])
    assert again.decrypt_secret()[SECRET_KEY] == pem  # made once, not on every save


@pytest.mark.django_db
@pytest.mark.parametrize("settings_", [{"dpop": False}, {"auth_mode": "ssws"}])
def test_no_dpop_key_when_dpop_is_off_or_the_api_token_is_used(sandbox, settings, settings_):
    settings.PORTAL_SANDBOX = True
    connection = _save(sandbox, **settings_)
    assert SECRET_KEY not in connection.decrypt_secret()


@pytest.mark.django_db
def test_the_connector_answers_the_nonce_challenge_then_calls_with_dpop(sandbox, settings):
    settings.PORTAL_SANDBOX = True
    _save(sandbox)
    with capture_calls() as calls:
        user = registry.okta_get_user(ALICE)
        registry.okta_get_user(ALICE)
    assert user["profile"]["login"] == ALICE
    shape = [(c.method, c.path.rsplit("/", 1)[-1], c.status) for c in calls]
    assert shape == [
        ("POST", "token", 400),  # use_dpop_nonce
        ("POST", "token", 200),
        ("GET", ALICE, 200),
        ("GET", ALICE, 200),  # the same token, a new proof
    ]
    assert calls[0].error_code == "use_dpop_nonce"


@pytest.mark.django_db
def test_test_connection_is_green_with_dpop_on_and_off_in_the_app(sandbox, settings):
    settings.PORTAL_SANDBOX = True
    connection = _save(sandbox)
    assert services.connection_test(connection=connection, actor=None).ok
    sandbox.set_app("okta", dpop=False)  # an app that does not bind tokens answers Bearer
    registry.reset_clients()
    from connections.providers.tokens import TOKEN_CACHE

    TOKEN_CACHE.clear()
    assert services.connection_test(connection=connection, actor=None).ok


@pytest.mark.django_db
def test_an_app_requiring_dpop_and_a_connection_without_it_says_what_to_do(sandbox, settings):
    settings.PORTAL_SANDBOX = True
    connection = _save(sandbox, dpop=False)
    result = services.connection_test(connection=connection, actor=None)
    assert not result.ok
    assert "requires DPoP" in result.message and "Use DPoP" in result.message
    assert "invalid_dpop_proof" in result.message


@pytest.mark.django_db
def test_a_scope_the_app_was_not_granted_is_refused_in_words(sandbox, settings):
    settings.PORTAL_SANDBOX = True
    sandbox.set_app("okta", scopes=["okta.users.read"])
    connection = _save(sandbox)
    result = services.connection_test(connection=connection, actor=None)
    assert not result.ok and "not granted to the service app" in result.message
    assert "invalid_scope" in result.message


# --- the proofs themselves, against a mock Okta ------------------------------------------------
def _claims(proof: str) -> tuple[dict, dict]:
    header = jwt.get_unverified_header(proof)
    key = jwt.PyJWK(header["jwk"], header["alg"]).key
    return header, jwt.decode(proof, key, algorithms=[header["alg"]])


def _ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def dpop_client(okta_config, router, transport, rsa_pem):
    config = okta_config()
    config = type(config)(
        **{**config.__dict__, "secret": {**config.secret, SECRET_KEY: new_key_pem()}}
    )
    client = OktaClient(config, transport=transport)
    yield client
    client.close()


def test_every_request_carries_a_new_proof_and_api_calls_carry_ath(dpop_client, router):
    token_proofs: list[str] = []

    def token(request: httpx.Request) -> httpx.Response:
        token_proofs.append(request.headers["DPoP"])
        if len(token_proofs) == 1:
            return httpx.Response(
                400,
                json={"error": "use_dpop_nonce", "error_description": "nonce"},
                headers={"dpop-nonce": "n-1"},
            )
        return httpx.Response(
            200, json={"token_type": "DPoP", "expires_in": 3600, "access_token": "at-d"}
        )

    api_requests: list[httpx.Request] = []

    def user(request: httpx.Request) -> httpx.Response:
        api_requests.append(request)
        return httpx.Response(200, json=okta_user())

    router.post(TOKEN_URL).mock(side_effect=token)
    router.get(url__startswith="https://acme.okta.com/api/v1/users/").mock(side_effect=user)
    dpop_client.get_user("00u1")
    dpop_client.get_user("00u1")

    (_, first), (header, second) = (_claims(p) for p in token_proofs)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and "d" not in header["jwk"]
    assert first["htm"] == second["htm"] == "POST" and second["htu"] == TOKEN_URL
    assert "nonce" not in first and second["nonce"] == "n-1"
    jtis = {first["jti"], second["jti"]}
    for request in api_requests:
        assert request.headers["Authorization"] == "DPoP at-d"
        _, claims = _claims(request.headers["DPoP"])
        assert claims["htm"] == "GET" and claims["htu"] == "https://acme.okta.com/api/v1/users/00u1"
        assert claims["ath"] == _ath("at-d") and "nonce" not in claims
        jtis.add(claims["jti"])
    assert len(jtis) == 4  # no proof is ever reused


def test_an_api_nonce_challenge_is_answered_once_without_a_new_token(dpop_client, router):
    router.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            200, json={"token_type": "DPoP", "expires_in": 3600, "access_token": "at-d"}
        )
    )
    seen: list[dict] = []

    def user(request: httpx.Request) -> httpx.Response:
        seen.append(_claims(request.headers["DPoP"])[1])
        if len(seen) == 1:
            return httpx.Response(
                401,
                headers={"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "rs-1"},
            )
        return httpx.Response(200, json=okta_user())

    router.get(url__startswith="https://acme.okta.com/api/v1/users/").mock(side_effect=user)
    assert dpop_client.get_user("00u1")["id"] == "00u1"
    assert router.calls.call_count == 3  # one token, two API calls
    assert "nonce" not in seen[0] and seen[1]["nonce"] == "rs-1"


def test_a_refused_proof_on_the_token_request_is_a_clear_permanent_error(dpop_client, router):
    router.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400,
            json={"error": "invalid_dpop_proof", "error_description": "The DPoP proof's htu …"},
        )
    )
    with pytest.raises(ConnectorError) as caught:
        dpop_client.get_user("00u1")
    assert "DPoP proof was refused" in caught.value.message and not caught.value.retryable
