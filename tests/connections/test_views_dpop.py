"""The Okta connection page explains DPoP setup, and saving an OAuth connection makes its DPoP key."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connections.models import Connection
from connections.providers.okta.dpop import SECRET_KEY

from .conftest import CANARY

pytestmark = pytest.mark.django_db

OAUTH_POST = {
    "label": "Acme Okta",
    "org_url": "https://acme.okta.com",
    "auth_mode": "oauth",
    "client_id": "0oa1",
    "key_id": "kid1",
    "dpop": "on",
    "scopes": "okta.users.read okta.users.manage",
}


@pytest.fixture
def admin_client(client, connection_admin):
    client.force_login(connection_admin)
    return client


def test_the_okta_page_describes_the_dpop_setup_instead_of_turning_it_off(admin_client):
    html = admin_client.get(reverse("connections:edit", args=["okta"])).content.decode()
    assert "Require Demonstrating Proof of Possession (DPoP) header in token requests" in html
    assert "turn <strong>off</strong>" not in html and "Turn OFF" not in html
    assert "makes this connection's own DPoP key pair" in html
    assert 'name="dpop"' in html and "checked" in html.split('name="dpop"')[1].split(">")[0]


def test_saving_makes_the_dpop_key_and_never_shows_it(admin_client, rsa_pem):
    response = admin_client.post(
        reverse("connections:edit", args=["okta"]), {**OAUTH_POST, "private_key_pem": rsa_pem}
    )
    assert response.status_code == 302
    saved = Connection.objects.get(system="okta")
    assert saved.settings["dpop"] is True
    pem = saved.decrypt_secret()[SECRET_KEY]
    html = admin_client.get(reverse("connections:edit", args=["okta"])).content.decode()
    assert pem.splitlines()[1] not in html and rsa_pem.splitlines()[1] not in html


def test_unticking_dpop_is_kept(admin_client):
    data = {k: v for k, v in OAUTH_POST.items() if k != "dpop"}
    admin_client.post(
        reverse("connections:edit", args=["okta"]), {**data, "private_key_pem": CANARY}
    )
    saved = Connection.objects.get(system="okta")
    assert saved.settings["dpop"] is False and SECRET_KEY not in saved.decrypt_secret()
    html = admin_client.get(reverse("connections:edit", args=["okta"])).content.decode()
    assert "checked" not in html.split('name="dpop"')[1].split(">")[0]
