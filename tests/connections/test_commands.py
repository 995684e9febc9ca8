"""Management commands: sandbox configuration and connection tests."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connections.models import Connection

pytestmark = pytest.mark.django_db


def test_configure_sandbox_refuses_without_the_sandbox(settings):
    settings.PORTAL_SANDBOX = False
    with pytest.raises(CommandError, match="PORTAL_SANDBOX"):
        call_command("configure_sandbox_connections")
    assert not Connection.objects.exists()


def test_configure_sandbox_creates_four_enabled_connections(settings, tmp_path, capsys):
    pytest.importorskip("connections.sandbox.credentials")
    settings.PORTAL_SANDBOX = True
    settings.PORTAL_SANDBOX_URL = "http://127.0.0.1:8100"
    settings.VAR_DIR = tmp_path
    call_command("configure_sandbox_connections")
    call_command("configure_sandbox_connections")  # idempotent
    rows = {c.system: c for c in Connection.objects.all()}
    assert set(rows) == {"okta", "google", "zoom", "msgraph"} and all(
        c.enabled for c in rows.values()
    )
    assert rows["okta"].settings["api_base_url"] == "http://127.0.0.1:8100/okta/api/v1"
    assert rows["okta"].settings["auth_mode"] == "oauth"
    assert (
        rows["msgraph"].settings["token_url"]
        == "http://127.0.0.1:8100/graph/login/{tenant}/oauth2/v2.0/token"
    )
    assert rows["google"].decrypt_secret()["service_account"]["type"] == "service_account"
    assert "Okta: configured" in capsys.readouterr().out


def test_test_connections_with_none_enabled(capsys):
    call_command("test_connections")
    assert "No enabled connections" in capsys.readouterr().out


def test_test_connections_fails_when_one_fails(settings):
    Connection.objects.create(system="zoom", label="z", enabled=True)
    with pytest.raises(CommandError, match="1 connection"):
        call_command("test_connections")
    assert Connection.objects.get().last_test_ok is False
