"""Connection services: save, enable/disable, test, and the signal they send."""

from __future__ import annotations

import httpx
import pytest

from connections import registry, services
from connections.exceptions import InvalidSettings
from connections.models import Connection
from connections.signals import connection_changed
from connections.types import System

from .conftest import CANARY, okta_user

pytestmark = pytest.mark.django_db

OKTA_SETTINGS = {"org_url": "https://acme.okta.com", "auth_mode": "ssws"}


@pytest.fixture
def events():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    connection_changed.connect(receiver, weak=False)
    yield received
    connection_changed.disconnect(receiver)


def test_save_creates_encrypts_and_signals_without_the_secret(events, connection_admin):
    result = services.connection_save(
        system=System.OKTA,
        actor=connection_admin,
        label="Acme",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    )
    connection = result.connection
    assert (
        result.created and connection.secret_set_at is not None and connection.secret_version == 1
    )
    assert connection.created_by == connection_admin
    assert CANARY not in connection.secret_ciphertext
    assert connection.decrypt_secret() == {"api_token": CANARY}
    assert connection.max_concurrency == 10
    assert events[0]["action"] == "created" and events[0]["actor"] == connection_admin
    assert "secret" in events[0]["changed_fields"]
    assert CANARY not in repr(events)


def test_saving_nothing_new_changes_nothing_and_sends_nothing(events):
    services.connection_save(
        system=System.OKTA,
        actor=None,
        label="A",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    )
    events.clear()
    result = services.connection_save(
        system=System.OKTA, actor=None, label="A", settings=OKTA_SETTINGS, secret={"api_token": ""}
    )
    assert result.changed_fields == () and events == []


def test_a_new_secret_value_is_merged_and_bumps_the_version():
    services.connection_save(
        system=System.OKTA,
        actor=None,
        label="A",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    )
    result = services.connection_save(
        system=System.OKTA,
        actor=None,
        label="A",
        settings=OKTA_SETTINGS,
        secret={"private_key_pem": "PEM"},
    )
    assert result.changed_fields == ("secret",)
    assert result.connection.decrypt_secret() == {"api_token": CANARY, "private_key_pem": "PEM"}
    assert result.connection.secret_version == 2


def test_settings_are_validated_against_the_url_policy():
    with pytest.raises(InvalidSettings) as info:
        services.connection_save(
            system=System.OKTA,
            actor=None,
            label="",
            settings={"org_url": "https://acme.okta.com.evil.test", "auth_mode": "ssws"},
        )
    assert "org_url" in info.value.args[0]
    assert not Connection.objects.exists()


def test_unknown_settings_keys_are_dropped():
    result = services.connection_save(
        system=System.ZOOM,
        actor=None,
        label="",
        settings={"account_id": "a", "client_id": "c", "api_token": CANARY},
    )
    assert "api_token" not in result.connection.settings


def test_enable_needs_a_complete_configuration(events):
    connection = services.connection_save(
        system=System.OKTA, actor=None, label="", settings=OKTA_SETTINGS
    ).connection
    with pytest.raises(InvalidSettings, match="the secret"):
        services.connection_set_enabled(connection=connection, actor=None, enabled=True)
    services.connection_save(
        system=System.OKTA,
        actor=None,
        label="",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    )
    events.clear()
    enabled = services.connection_set_enabled(connection=connection, actor=None, enabled=True)
    assert enabled.enabled and events[0]["action"] == "enabled"
    events.clear()
    services.connection_set_enabled(connection=connection, actor=None, enabled=True)
    assert events == []  # no change, no event


def test_test_connection_records_success(router, transport, events):
    connection = services.connection_save(
        system=System.OKTA,
        actor=None,
        label="",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    ).connection
    registry.transport = transport
    router.get("https://acme.okta.com/api/v1/users").mock(
        return_value=httpx.Response(200, json=[okta_user()])
    )
    result = services.connection_test(connection=connection, actor=None)
    assert result.ok and "users can be read" in result.message
    connection.refresh_from_db()
    assert connection.last_test_ok is True and connection.last_test_at is not None
    assert events[-1]["action"] == "tested"


def test_test_connection_records_failure_in_words(router, transport):
    connection = services.connection_save(
        system=System.OKTA,
        actor=None,
        label="",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    ).connection
    registry.transport = transport
    router.get("https://acme.okta.com/api/v1/users").mock(
        return_value=httpx.Response(
            403, json={"errorCode": "E0000006", "errorSummary": "You do not have permission"}
        )
    )
    result = services.connection_test(connection=connection, actor=None)
    assert not result.ok and result.message.startswith("Okta: permission denied")
    connection.refresh_from_db()
    assert connection.last_test_ok is False and CANARY not in connection.last_test_message


def test_test_connection_without_secret_says_what_is_missing():
    connection = services.connection_save(
        system=System.ZOOM, actor=None, label="", settings={"account_id": "a", "client_id": "c"}
    ).connection
    result = services.connection_test(connection=connection, actor=None)
    assert not result.ok and "the secret" in result.message


def test_saving_the_same_secret_again_is_not_a_change(events):
    services.connection_save(
        system=System.OKTA,
        actor=None,
        label="A",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    )
    events.clear()
    result = services.connection_save(
        system=System.OKTA,
        actor=None,
        label="A",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    )
    assert result.changed_fields == () and events == [] and result.connection.secret_version == 1


def test_an_unreadable_secret_is_replaced_not_merged():
    connection = services.connection_save(
        system=System.OKTA,
        actor=None,
        label="A",
        settings=OKTA_SETTINGS,
        secret={"api_token": "old"},
    ).connection
    Connection.objects.filter(pk=connection.pk).update(secret_ciphertext="gAAAAAbroken")
    result = services.connection_save(
        system=System.OKTA,
        actor=None,
        label="A",
        settings=OKTA_SETTINGS,
        secret={"api_token": CANARY},
    )
    assert result.changed_fields == ("secret",)
    assert result.connection.decrypt_secret() == {"api_token": CANARY}
