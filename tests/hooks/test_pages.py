"""The Connections page's hook panel, the event policy pages and the hook settings, by role."""

from __future__ import annotations

import pytest

from connections import registry
from offboarding.models import AuditEvent, EventHook, EventPolicy
from tests.hooks.conftest import SECRET

pytestmark = pytest.mark.django_db


def test_the_connections_page_shows_the_hook_url_and_its_state(
    client, connection_admin, hook, deliver
):
    client.force_login(connection_admin)
    page = client.get("/connections/").content.decode()
    assert f"/hooks/okta/{hook.connection_id}/" in page
    assert "Not verified" in page
    assert SECRET not in page
    assert hook.secret_ciphertext not in page


@pytest.mark.parametrize("who", ["helpdesk", "approver", "auditor", "outsider"])
def test_only_connection_admins_see_the_event_policy_pages(client, request, who, hook):
    client.force_login(request.getfixturevalue(who))
    for url in ("/policies/events/", "/policies/events/new", "/policies/events/hook"):
        assert client.get(url).status_code == 403
    assert client.post("/policies/events/hook/register").status_code == 403


def test_a_policy_change_is_saved_and_audited(client, connection_admin):
    client.force_login(connection_admin)
    policy = EventPolicy.objects.get(event_type="group.user_membership.add")
    response = client.post(
        f"/policies/events/{policy.pk}/",
        {
            "name": "Offboarding group",
            "event_type": "group.user_membership.add",
            "okta_group_id": "00gOffboard1",
            "action": "offboard",
            "mode": "approval",
            "active": "on",
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.okta_group_id == "00gOffboard1"
    audit = AuditEvent.objects.get(action=AuditEvent.Action.POLICY_CHANGED)
    assert audit.details["okta_group_id"] == "00gOffboard1"


def test_automatic_offboarding_is_refused_with_a_clear_message(client, connection_admin):
    client.force_login(connection_admin)
    response = client.post(
        "/policies/events/new",
        {
            "name": "Danger",
            "event_type": "user.lifecycle.suspend",
            "action": "offboard",
            "mode": "automatic",
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "Only reset sessions may run automatically" in response.content.decode()
    assert not EventPolicy.objects.filter(name="Danger").exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_CHANGED).exists()


def test_a_policy_can_be_deleted_and_that_is_audited(client, connection_admin):
    client.force_login(connection_admin)
    policy = EventPolicy.objects.get(event_type="user.lifecycle.reactivate")
    assert client.post(f"/policies/events/{policy.pk}/delete").status_code == 302
    assert not EventPolicy.objects.filter(pk=policy.pk).exists()
    assert AuditEvent.objects.get(action=AuditEvent.Action.POLICY_CHANGED).details["change"] == (
        "deleted"
    )


def test_the_hook_secret_is_write_only_and_its_change_audited_without_it(
    client, connection_admin, okta_connection
):
    client.force_login(connection_admin)
    response = client.post(
        "/policies/events/hook", {"header_name": "Authorization", "secret": SECRET}
    )
    assert response.status_code == 302
    hook = EventHook.objects.get()
    assert hook.decrypt_secret() == SECRET
    assert SECRET not in hook.secret_ciphertext
    page = client.get("/policies/events/hook").content.decode()
    assert SECRET not in page
    audit = AuditEvent.objects.get(action=AuditEvent.Action.HOOK_CHANGED)
    assert SECRET not in str(audit.details)


def test_a_short_secret_or_odd_header_is_refused(client, connection_admin, okta_connection):
    client.force_login(connection_admin)
    short = client.post("/policies/events/hook", {"header_name": "Authorization", "secret": "abc"})
    odd = client.post("/policies/events/hook", {"header_name": "X Bad:", "secret": SECRET})
    assert short.status_code == odd.status_code == 200
    assert not EventHook.objects.exists()


def test_registering_sends_the_hook_to_okta_and_asks_for_verification(
    client, connection_admin, hook, monkeypatch
):
    sent: list[dict] = []
    monkeypatch.setattr(
        registry, "okta_event_hook_create", lambda **kw: sent.append(kw) or {"id": "who1"}
    )
    monkeypatch.setattr(
        registry, "okta_event_hook_verify", lambda hook_id: {"verificationStatus": "VERIFIED"}
    )
    client.force_login(connection_admin)
    assert client.post("/policies/events/hook/register").status_code == 302
    (call,) = sent
    assert call["uri"].endswith(f"/hooks/okta/{hook.connection_id}/")
    assert call["secret"] == SECRET and call["header_name"] == "Authorization"
    assert "user.lifecycle.suspend" in call["event_types"]
    hook.refresh_from_db()
    assert hook.okta_hook_id == "who1"
    audit = AuditEvent.objects.get(action=AuditEvent.Action.HOOK_CHANGED)
    assert SECRET not in str(audit.details)


def test_rotating_the_encryption_keys_keeps_the_hook_secret_readable(
    hook, okta_connection, settings
):
    from cryptography.fernet import Fernet

    from connections import crypto, services

    okta_connection.set_secret({"api_token": "t" * 20})
    okta_connection.save()
    old = list(settings.PORTAL_ENCRYPTION_KEYS)
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *old]
    crypto._multifernet.cache_clear()
    services.connection_rotate_keys()
    settings.PORTAL_ENCRYPTION_KEYS = settings.PORTAL_ENCRYPTION_KEYS[:1]  # the old key dropped
    crypto._multifernet.cache_clear()
    hook.refresh_from_db()
    assert hook.decrypt_secret() == SECRET


def test_the_event_policies_page_lists_the_policies_and_latest_events(
    client, connection_admin, deliver, queue, fake_registry
):
    from tests.hooks.conftest import envelope, log_event

    deliver(envelope(log_event("user.lifecycle.suspend", "00u1")))
    queue.drain()
    client.force_login(connection_admin)
    page = client.get("/policies/events/").content.decode()
    assert "User suspended in Okta" in page
    assert "user.account.report_suspicious_activity_by_enduser" in page
    assert "Choose the group" in page  # the offboarding-group policy has none yet
    assert "Acted on" in page and "/requests/" in page


def test_pages_work_before_any_hook_is_set_up(client, connection_admin, okta_connection):
    client.force_login(connection_admin)
    assert "Not verified" in client.get("/connections/").content.decode()
    assert client.get("/policies/events/").status_code == 200
    assert client.get("/policies/events/hook").status_code == 200


def test_without_an_okta_connection_the_hook_settings_say_so(client, connection_admin):
    client.force_login(connection_admin)
    assert client.get("/policies/events/").status_code == 200
    assert client.get("/policies/events/hook").status_code == 404
