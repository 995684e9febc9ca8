"""Issue 16, item 9: protecting a group or scoping a delegation finds Okta groups by name; Disable
looks like what it is; one date style with the time zone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connections.types import ConnectorError
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db
URL = reverse("offboarding:okta-groups")


@pytest.fixture
def okta_groups(monkeypatch):
    asked = []

    def search(*, name, limit=20):
        asked.append(name)
        groups = [{"id": "00gAdm1", "name": "Administrators", "type": "OKTA_GROUP"}]
        return [g for g in groups if g["name"].lower().startswith(name.lower())]

    monkeypatch.setattr("connections.registry.okta_search_groups", search)
    return asked


def test_a_connection_admin_finds_a_group_by_name_and_protects_it(
    client, connection_admin, okta_groups
):
    page = sign_in(client, connection_admin).get(URL, {"q": "admin"}).content.decode()
    assert 'data-testid="protect-00gAdm1"' in page and "Administrators" in page
    assert okta_groups == ["admin"]
    added = client.get(URL, {"q": "admin", "mode": "add"}).content.decode()
    assert 'data-append-line="00gAdm1"' in added
    none = client.get(URL, {"q": "zz"}).content.decode()
    assert 'data-testid="group-picker-empty"' in none
    assert "at least 2 letters" in client.get(URL, {"q": "a"}).content.decode()
    assert okta_groups == ["admin", "admin", "zz"]


def test_okta_errors_come_back_in_words(client, connection_admin, monkeypatch):
    def down(**kwargs):
        raise ConnectorError("Okta: unavailable (503)", retryable=True, status=503)

    monkeypatch.setattr("connections.registry.okta_search_groups", down)
    page = sign_in(client, connection_admin).get(URL, {"q": "admin"})
    assert page.status_code == 200 and "Okta could not be searched" in page.content.decode()


def test_only_policy_admins_search_groups(client, helpdesk, auditor, okta_groups):
    assert sign_in(client, helpdesk).get(URL, {"q": "admin"}).status_code == 403
    assert sign_in(client, auditor).get(URL, {"q": "admin"}).status_code == 403
    assert okta_groups == []


def test_the_policy_pages_offer_the_picker(client, connection_admin):
    sign_in(client, connection_admin)
    assert (
        'data-testid="group-picker-protect"'
        in client.get(reverse("offboarding:policies")).content.decode()
    )
    assert (
        'data-testid="group-picker-add"'
        in client.get(reverse("offboarding:delegation-new")).content.decode()
    )


def test_disable_is_a_danger_button_that_asks_first_and_dates_carry_the_time_zone(
    client, connection_admin
):
    from connections import services

    result = services.connection_save(
        system="zoom",
        actor=None,
        label="Zoom",
        settings={"account_id": "a", "client_id": "c"},
        secret={"client_secret": "not-a-real-secret"},
    )
    services.connection_set_enabled(connection=result.connection, actor=None, enabled=True)
    page = sign_in(client, connection_admin).get(reverse("connections:list")).content.decode()
    assert 'class="button danger" data-testid="disable-zoom" data-confirm="Disable the Zoom' in page
    assert "p.m." not in page and "a.m." not in page and " UTC" in page
