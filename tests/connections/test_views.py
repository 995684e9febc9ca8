"""Connection pages: permissions per role, forms, test and enable buttons, secrets never shown."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from django.db import connection as db_connection
from django.urls import reverse

from connections import registry, services
from connections.models import Connection
from connections.types import System

from .conftest import CANARY, okta_user

pytestmark = pytest.mark.django_db

OKTA_POST = {
    "label": "Acme Okta",
    "org_url": "https://acme.okta.com",
    "auth_mode": "ssws",
    "api_token": CANARY,
    "scopes": "okta.users.read okta.users.manage",
}


@pytest.fixture
def admin_client(client, connection_admin):
    client.force_login(connection_admin)
    return client


@pytest.mark.parametrize("role", ["helpdesk", "approver", "auditor", "outsider"])
def test_other_roles_get_403_everywhere(client, request, role):
    client.force_login(request.getfixturevalue(role))
    Connection.objects.create(system="okta", label="x")
    assert client.get(reverse("connections:list")).status_code == 403
    assert client.get(reverse("connections:edit", args=["okta"])).status_code == 403
    assert client.post(reverse("connections:edit", args=["okta"]), OKTA_POST).status_code == 403
    assert client.post(reverse("connections:test", args=["okta"])).status_code == 403
    assert (
        client.post(reverse("connections:enable", args=["okta"]), {"enabled": "on"}).status_code
        == 403
    )
    assert Connection.objects.get().label == "x" and not Connection.objects.get().enabled


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("connections:list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_list_shows_all_four_systems_with_state(admin_client):
    Connection.objects.create(system="zoom", label="Zoom prod", enabled=True, last_test_ok=False)
    response = admin_client.get(reverse("connections:list"))
    html = response.content.decode()
    assert response.status_code == 200
    for label in ("Okta", "Google Workspace", "Zoom", "Microsoft 365"):
        assert label in html
    assert html.count("Not configured") == 3
    assert "Enabled" in html and "Last test failed" in html


def test_unknown_system_is_404(admin_client):
    assert admin_client.get(reverse("connections:edit", args=["slack"])).status_code == 404
    assert admin_client.post(reverse("connections:test", args=["zoom"])).status_code == 404


def test_edit_form_help_names_the_scopes_and_dpop(admin_client):
    html = admin_client.get(reverse("connections:edit", args=["okta"])).content.decode()
    assert "okta.users.manage" in html and "DPoP" in html
    html = admin_client.get(reverse("connections:edit", args=["google"])).content.decode()
    assert "admin.directory.user.security" in html
    html = admin_client.get(reverse("connections:edit", args=["msgraph"])).content.decode()
    assert "User.RevokeSessions.All" in html
    html = admin_client.get(reverse("connections:edit", args=["zoom"])).content.decode()
    assert "user:write:admin" in html


def test_save_then_secret_is_write_only_in_the_form(admin_client, connection_admin, caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_client.post(reverse("connections:edit", args=["okta"]), OKTA_POST)
    assert response.status_code == 302
    saved = Connection.objects.get(system="okta")
    assert saved.updated_by == connection_admin and saved.settings["scopes"] == [
        "okta.users.read",
        "okta.users.manage",
    ]
    html = admin_client.get(reverse("connections:edit", args=["okta"])).content.decode()
    assert CANARY not in html and "Set on" in html
    html = admin_client.get(reverse("connections:list")).content.decode()
    assert CANARY not in html and "set on" in html
    assert CANARY not in caplog.text


def test_invalid_url_is_a_form_error_and_secret_is_not_echoed(admin_client):
    data = {**OKTA_POST, "org_url": "https://acme.okta.com.evil.test"}
    response = admin_client.post(reverse("connections:edit", args=["okta"]), data)
    html = response.content.decode()
    assert response.status_code == 200 and "is not a Okta host" in html
    assert CANARY not in html
    assert not Connection.objects.exists()


def test_bad_okta_scope_is_refused(admin_client):
    response = admin_client.post(
        reverse("connections:edit", args=["okta"]), {**OKTA_POST, "scopes": "openid"}
    )
    assert response.status_code == 200 and "Not an Okta scope" in response.content.decode()


def test_google_key_file_must_be_a_service_account(admin_client):
    data = {"admin_email": "admin@acme.com", "service_account": '{"type": "user"}'}
    response = admin_client.post(reverse("connections:edit", args=["google"]), data)
    assert "not a service-account key" in response.content.decode()


def test_google_key_file_is_stored_encrypted_and_client_email_shown(admin_client, rsa_pem):
    import json

    key = {
        "type": "service_account",
        "client_email": "sa@p.iam.gserviceaccount.com",
        "private_key": rsa_pem,
        "private_key_id": CANARY,
    }
    data = {"admin_email": "admin@acme.com", "service_account": json.dumps(key)}
    assert admin_client.post(reverse("connections:edit", args=["google"]), data).status_code == 302
    saved = Connection.objects.get(system="google")
    assert saved.settings["client_email"] == "sa@p.iam.gserviceaccount.com"
    assert saved.decrypt_secret()["service_account"]["private_key_id"] == CANARY
    html = admin_client.get(reverse("connections:edit", args=["google"])).content.decode()
    assert (
        "sa@p.iam.gserviceaccount.com" in html and "PRIVATE KEY" not in html and CANARY not in html
    )


def test_enable_and_disable_buttons(admin_client):
    admin_client.post(reverse("connections:edit", args=["okta"]), OKTA_POST)
    admin_client.post(reverse("connections:enable", args=["okta"]), {"enabled": "on"})
    assert Connection.objects.get().enabled
    admin_client.post(reverse("connections:enable", args=["okta"]), {})
    assert not Connection.objects.get().enabled


def test_enable_incomplete_connection_shows_why(admin_client):
    admin_client.post(reverse("connections:edit", args=["okta"]), {**OKTA_POST, "api_token": ""})
    response = admin_client.post(
        reverse("connections:enable", args=["okta"]), {"enabled": "on"}, follow=True
    )
    assert "missing" in response.content.decode() and not Connection.objects.get().enabled


def test_enable_needs_post(admin_client):
    admin_client.post(reverse("connections:edit", args=["okta"]), OKTA_POST)
    assert admin_client.get(reverse("connections:enable", args=["okta"])).status_code == 405
    assert admin_client.get(reverse("connections:test", args=["okta"])).status_code == 405


def test_test_button_runs_a_read_and_says_what_it_proved(admin_client, router, transport, caplog):
    caplog.set_level(logging.DEBUG)
    admin_client.post(reverse("connections:edit", args=["okta"]), OKTA_POST)
    registry.transport = transport
    route = router.get("https://acme.okta.com/api/v1/users").mock(
        return_value=httpx.Response(200, json=[okta_user()])
    )
    response = admin_client.post(reverse("connections:test", args=["okta"]), follow=True)
    html = response.content.decode()
    assert route.calls[0].request.headers["Authorization"] == f"SSWS {CANARY}"
    assert "Test passed" in html and "users can be read" in html and "Last test passed" in html
    assert CANARY not in html and CANARY not in caplog.text


def test_canary_is_in_no_database_column_in_plaintext(admin_client):
    admin_client.post(reverse("connections:edit", args=["okta"]), OKTA_POST)
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Connection._meta.db_table}")  # noqa: S608 (fixed name)
        rows = cursor.fetchall()
    assert rows and all(CANARY not in str(value) for row in rows for value in row)


def test_model_repr_and_str_hold_no_secret():
    result = services.connection_save(
        system=System.ZOOM,
        actor=None,
        label="Zoom",
        settings={"account_id": "a", "client_id": "c"},
        secret={"client_secret": CANARY},
    )
    connection = result.connection
    assert CANARY not in repr(connection) and CANARY not in str(connection)
    assert connection.secret_ciphertext[:20] not in repr(connection)


def test_django_admin_shows_set_on_and_never_the_secret(client, django_user_model, rsa_pem):
    superuser = django_user_model.objects.create_superuser(
        "root", "root@x.test", "pw-long-enough-123"
    )
    client.force_login(superuser)
    connection = services.connection_save(
        system=System.ZOOM,
        actor=None,
        label="Zoom",
        settings={"account_id": "a", "client_id": "c"},
        secret={"client_secret": CANARY},
    ).connection
    html = client.get(
        reverse("admin:connections_connection_change", args=[connection.pk])
    ).content.decode()
    assert "set on" in html and CANARY not in html and connection.secret_ciphertext not in html
    html = client.get(reverse("admin:connections_connection_changelist")).content.decode()
    assert CANARY not in html


def test_django_admin_refuses_a_bad_url_in_settings(client, django_user_model):
    superuser = django_user_model.objects.create_superuser(
        "root", "root@x.test", "pw-long-enough-123"
    )
    client.force_login(superuser)
    data = {
        "system": "zoom",
        "label": "Zoom",
        "settings": '{"api_base_url": "https://api.zoom.us.evil.test"}',
        "max_concurrency": "5",
        "replace_secret": "",
    }
    response = client.post(reverse("admin:connections_connection_add"), data)
    assert response.status_code == 200 and "not a Zoom host" in response.content.decode()
    assert not Connection.objects.exists()


def test_django_admin_replaces_the_secret_through_the_service(client, django_user_model):
    superuser = django_user_model.objects.create_superuser(
        "root", "root@x.test", "pw-long-enough-123"
    )
    client.force_login(superuser)
    data = {
        "system": "zoom",
        "label": "Zoom",
        "settings": '{"account_id": "a", "client_id": "c"}',
        "max_concurrency": "5",
        "replace_secret": json.dumps({"client_secret": CANARY}),
    }
    response = client.post(reverse("admin:connections_connection_add"), data)
    assert response.status_code == 302
    saved = Connection.objects.get()
    assert saved.decrypt_secret() == {"client_secret": CANARY} and saved.secret_set_at
