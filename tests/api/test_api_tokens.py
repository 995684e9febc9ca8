"""Tokens: the page for Connection admins (create shows it once, revoke, last use) and the command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from offboarding import services
from offboarding.exceptions import InvalidRequest, NotAllowed
from offboarding.models import ApiToken, AuditEvent
from offboarding.models.api import token_hash

pytestmark = pytest.mark.django_db


def _create(client, team_group, **overrides):
    data = {
        "name": "hr-system",
        "team": team_group.pk,
        "scopes": ["people:read", "requests:create"],
    }
    data.update(overrides)
    return client.post("/api-tokens/", data)


@pytest.mark.parametrize("who", ["helpdesk", "approver", "auditor", "outsider"])
def test_only_connection_admins_see_or_change_tokens(client, request, who, delegation):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/api-tokens/").status_code == 403
    assert _create(client, delegation.team).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_created_token_is_shown_once_and_kept_only_as_a_hash(
    client, connection_admin, delegation
):
    client.force_login(connection_admin)
    page = _create(client, delegation.team)
    assert page.status_code == 200
    token = ApiToken.objects.get()
    html = page.content.decode()
    start = html.index('value="opk_') + len('value="')
    raw = html[start : html.index('"', start)]
    assert raw.startswith(token.prefix + "_") and token.token_hash == token_hash(raw)
    assert raw not in str(ApiToken.objects.values().get())  # only the hash is stored
    assert "no-store" in page["Cache-Control"]
    again = client.get("/api-tokens/").content.decode()
    assert token.prefix in again and raw not in again  # never shown again
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_TOKEN_CHANGED)
    assert event.actor == connection_admin and event.details["change"] == "created"
    assert raw not in str(event.details)
    assert token.service_user.username == "api:hr-system"
    assert not token.service_user.has_usable_password()
    assert list(token.service_user.groups.all()) == [delegation.team]


def test_bad_token_input_changes_nothing(client, connection_admin, delegation, managers):
    client.force_login(connection_admin)
    for overrides in (
        {"name": "has spaces"},
        {"scopes": []},
        {"scopes": ["admin:all"]},
        {"team": managers.pk},  # not the team of a delegation
        {"expires_at": "2001-01-01 00:00"},
    ):
        page = _create(client, delegation.team, **overrides)
        assert page.status_code == 200 and b"opk_" not in page.content, overrides
    assert not ApiToken.objects.exists()
    _create(client, delegation.team)
    assert b"exists already" in _create(client, delegation.team).content
    assert ApiToken.objects.count() == 1


def test_revoking_shows_on_the_page_with_the_last_use(
    client, connection_admin, delegation, api_as, fake_registry
):
    token, raw = services.api_token_create(
        actor=connection_admin, name="hr-system", team=delegation.team, scopes="requests:read"
    )
    client.force_login(connection_admin)
    assert b"Never used" in client.get("/api-tokens/").content
    api_as(raw).get("/api/v1/requests")
    assert b"Never used" not in client.get("/api-tokens/").content
    response = client.post(f"/api-tokens/{token.pk}/revoke")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == connection_admin
    assert not token.service_user.is_active
    assert b"Revoked" in client.get("/api-tokens/").content
    assert client.post("/api-tokens/999999/revoke").status_code == 404
    assert [
        e.details["change"]
        for e in AuditEvent.objects.filter(action=AuditEvent.Action.API_TOKEN_CHANGED).order_by(
            "seq"
        )
    ] == ["created", "revoked"]


def test_people_cannot_create_tokens_through_the_service(helpdesk, delegation):
    with pytest.raises(NotAllowed):
        services.api_token_create(
            actor=helpdesk, name="x", team=delegation.team, scopes="requests:read"
        )


def test_the_command_prints_the_token_once(delegation, api_as, fake_registry):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token",
        "--name=payroll",
        f"--team={delegation.team.name}",
        "--scopes=people:read, requests:read",
        stdout=out,
        stderr=err,
    )
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(name="payroll")
    assert token.scopes == ["people:read", "requests:read"] and raw.startswith(token.prefix)
    assert raw not in err.getvalue()
    assert api_as(raw).get("/api/v1/requests").status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.API_TOKEN_CHANGED)
    assert event.actor is None and "create_api_token" in event.actor_label


def test_the_command_refuses_bad_input(delegation):
    with pytest.raises(CommandError, match="No team"):
        call_command("create_api_token", "--name=a", "--team=Nobody", "--scopes=people:read")
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command(
            "create_api_token", "--name=a", f"--team={delegation.team.name}", "--scopes=root"
        )
    with pytest.raises(InvalidRequest):
        services.api_token_create(actor=None, name="a", team=delegation.team, scopes="")
    assert not ApiToken.objects.exists()


def test_the_navigation_shows_the_page_to_connection_admins_only(
    client, connection_admin, helpdesk
):
    client.force_login(connection_admin)
    assert b'href="/api-tokens/"' in client.get("/").content
    client.force_login(helpdesk)
    assert b'href="/api-tokens/"' not in client.get("/").content
