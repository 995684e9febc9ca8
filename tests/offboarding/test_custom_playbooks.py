"""Issue 17: custom playbooks saved, versioned, offered by delegations, asked for and approved
like the built-in ones; the pages and the import command."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from offboarding import services
from offboarding.exceptions import InvalidPlaybook, NotAllowed
from offboarding.models import ActionRequest, AuditEvent, CustomPlaybookVersion, StepRun
from tests.offboarding.arazzo_helpers import SEED, schema_problems, seed_text

pytestmark = pytest.mark.django_db
NAME = "Suspend and clear sessions"


def _import(actor, name: str = NAME) -> CustomPlaybookVersion:
    return services.custom_playbook_import(actor=actor, name=name, text=seed_text())


def test_only_a_connection_admin_imports_and_each_import_is_a_new_version(
    connection_admin, helpdesk
):
    with pytest.raises(NotAllowed):
        _import(helpdesk)
    first, second = _import(connection_admin), _import(connection_admin)
    assert (first.number, second.number) == (1, 2)
    assert first.kind != second.kind and first.playbook_id == second.playbook_id
    assert second.label == f"{NAME} (v2)"
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PLAYBOOK_IMPORTED).last()
    assert event.details["steps"] == ["okta.suspend", "okta.clear_sessions"]
    assert "oktaApiToken" not in json.dumps(event.details)
    assert "oktaApiToken" not in json.dumps(second.document)


def test_a_refused_document_saves_nothing(connection_admin):
    with pytest.raises(InvalidPlaybook, match="clearSessions"):
        services.custom_playbook_import(
            actor=connection_admin,
            name=NAME,
            text=seed_text().replace("clearUserSessions", "deleteUser"),
        )
    assert not CustomPlaybookVersion.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PLAYBOOK_IMPORTED).exists()


def test_a_delegation_offers_a_version_and_its_request_goes_through_approval_and_the_runner(
    connection_admin, delegation, make_request, approve, approver, queue, fake_registry, steps
):
    version = _import(connection_admin)
    with pytest.raises(Exception, match="No delegation"):
        make_request(version.kind, systems=["okta"])
    services.delegation_save(
        delegation_id=delegation.pk,
        actor=connection_admin,
        allowed_actions=[*delegation.allowed_actions, version.kind],
    )
    fake_registry.add_user("00u1")
    req = make_request(version.kind, systems=["okta"], options={"oauth_tokens": True})
    assert req.state == ActionRequest.State.PENDING_APPROVAL
    assert req.get_kind_display() == f"{NAME} (v1)"
    req = approve(req, approver)
    assert req.state == ActionRequest.State.RUNNING  # approved, and started at once
    rows = steps(req)
    assert set(rows) == {"okta.suspend", "okta.clear_sessions"}
    assert rows["okta.clear_sessions"].depends_on == ["okta.suspend"]
    assert rows["okta.clear_sessions"].options == {"oauth_tokens": True, "forget_devices": True}
    queue.drain()
    req.refresh_from_db()
    assert req.state == ActionRequest.State.SUCCEEDED, req.state_note
    assert [c[:2] for c in fake_registry.calls] == [
        ("okta", "suspend"),
        ("okta", "clear_sessions"),
    ]
    assert {s.status for s in steps(req).values()} == {StepRun.Status.SUCCEEDED}


def test_a_new_version_leaves_requests_and_delegations_on_theirs(
    connection_admin, delegation, make_request, fake_registry
):
    first = _import(connection_admin)
    delegation.allowed_actions = [first.kind]
    delegation.save()
    fake_registry.add_user("00u1")
    req = make_request(first.kind, systems=["okta"])
    second = _import(connection_admin)
    req.refresh_from_db()
    assert req.kind == first.kind
    with pytest.raises(Exception, match="No delegation"):
        make_request(second.kind, systems=["okta"], okta_id="00u1")


def test_unknown_options_of_a_custom_playbook_are_refused(
    connection_admin, delegation, make_request, fake_registry
):
    version = _import(connection_admin)
    delegation.allowed_actions = [version.kind]
    delegation.save()
    fake_registry.add_user("00u1")
    with pytest.raises(Exception, match="Unknown options"):
        make_request(version.kind, systems=["okta"], options={"okta_deactivate": True})


# --- Pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["helpdesk", "auditor", "connection_admin"])
def test_the_playbooks_page_shows_each_plan_and_downloads(client, request, who):
    client.force_login(request.getfixturevalue(who))
    page = client.get(reverse("offboarding:playbooks"))
    assert page.status_code == 200
    assert b'data-testid="plan-step-okta.deactivate"' in page.content
    response = client.get(reverse("offboarding:playbook-download", kwargs={"kind": "offboard"}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="playbook-offboard.arazzo.json"'
    assert schema_problems(json.loads(response.content)) == []
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PLAYBOOK_EXPORTED).count() == 1
    can_import = b"Import an Arazzo document" in page.content
    assert can_import is (who == "connection_admin")


def test_someone_without_a_role_sees_no_playbook(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("offboarding:playbooks")).status_code == 403
    url = reverse("offboarding:playbook-download", kwargs={"kind": "offboard"})
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PLAYBOOK_EXPORTED).exists()


def test_the_import_shows_the_plan_in_words_then_saves_on_confirmation(client, connection_admin):
    client.force_login(connection_admin)
    url = reverse("offboarding:playbook-import")
    with SEED.open("rb") as upload:
        page = client.post(url, {"name": NAME, "upload": upload, "confirm": "preview"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Suspend in Okta" in text and "after Suspend in Okta" in text
    assert "“oktaApiToken” dropped" in text
    assert not CustomPlaybookVersion.objects.exists()
    cleaned = page.context["preview"]["text"]
    assert "oktaApiToken" not in cleaned
    notices = page.context["preview"]["notices"]
    saved = client.post(
        url, {"name": NAME, "document": cleaned, "dropped": notices, "confirm": "save"}
    )
    assert saved.status_code == 302
    version = CustomPlaybookVersion.objects.get()
    assert version.notices == notices and len(version.steps) == 2
    listing = client.get(reverse("offboarding:playbooks")).content.decode()
    assert f"{NAME}" in listing and "Download v1" in listing


def test_a_refused_import_says_why_and_does_not_echo_the_document(client, connection_admin):
    client.force_login(connection_admin)
    text = (
        seed_text()
        .replace("clearUserSessions", "deleteUser")
        .replace("Okta API token used", "Okta API token 00SECRETVALUE used")
    )
    page = client.post(
        reverse("offboarding:playbook-import"),
        {"name": NAME, "document": text, "confirm": "preview"},
    )
    assert page.status_code == 400
    assert "Step “clearSessions”" in page.content.decode()
    assert b"00SECRETVALUE" not in page.content
    assert not CustomPlaybookVersion.objects.exists()


@pytest.mark.parametrize("who", ["helpdesk", "auditor", "approver"])
def test_others_cannot_import(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(
        reverse("offboarding:playbook-import"),
        {"name": NAME, "document": seed_text(), "confirm": "save"},
    )
    assert response.status_code == 403
    assert not CustomPlaybookVersion.objects.exists()


def test_a_requests_plan_downloads_as_arazzo_for_those_who_see_the_request(
    client, make_request, helpdesk, outsider, fake_registry
):
    fake_registry.add_user("00u1")
    req = make_request("offboard", options={"okta_deactivate": True})
    url = reverse("offboarding:request-arazzo", kwargs={"pk": req.pk})
    client.force_login(helpdesk)
    detail = client.get(reverse("offboarding:request-detail", kwargs={"pk": req.pk}))
    assert url.encode() in detail.content
    document = json.loads(client.get(url).content)
    assert schema_problems(document) == []
    assert "offboard-okta-last" in {w["workflowId"] for w in document["workflows"]}
    event = AuditEvent.objects.get(action=AuditEvent.Action.PLAYBOOK_EXPORTED)
    assert event.object_id == str(req.pk)
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_the_request_form_offers_the_newest_version(
    client, connection_admin, helpdesk, fake_registry
):
    _import(connection_admin)
    newest = _import(connection_admin)
    fake_registry.add_user("00u1")
    client.force_login(helpdesk)
    page = client.get(reverse("offboarding:request-new", kwargs={"okta_id": "00u1"}))
    kinds = dict(page.context["kinds"])
    assert kinds[newest.kind] == f"{NAME} (v2)"
    assert len([k for k in kinds if k.startswith("pb_")]) == 1


# --- Command --------------------------------------------------------------------------------------


def test_the_import_command_shows_the_plan_and_saves(capsys):
    call_command("arazzo_import", str(SEED), "--name", NAME, "--dry-run")
    out = capsys.readouterr()
    assert "Suspend in Okta (at once)" in out.out and "Dry run" in out.out
    assert "oktaApiToken" in out.err  # the notice names what was dropped
    assert not CustomPlaybookVersion.objects.exists()
    call_command("arazzo_import", str(SEED), "--name", NAME)
    assert "Saved" in capsys.readouterr().out
    version = CustomPlaybookVersion.objects.get()
    assert version.imported_by_label == "manage.py arazzo_import"
    call_command("arazzo_export", version.kind)
    document = json.loads(capsys.readouterr().out)
    assert schema_problems(document) == []


def test_the_import_command_refuses_with_the_reason(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(seed_text().replace("suspendUser\n    parameters", "frobnicate\n    parameters"))
    with pytest.raises(CommandError, match="frobnicate"):
        call_command("arazzo_import", str(bad), "--name", NAME)


def test_asking_for_a_custom_playbook_that_locks_needs_a_recent_sign_in(
    client, connection_admin, helpdesk, delegation, fake_registry
):
    version = _import(connection_admin)
    delegation.allowed_actions = [version.kind]
    delegation.save()
    fake_registry.add_user("00u1")
    client.force_login(helpdesk)  # signed in, but not within the last minutes
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"})
    response = client.post(url, {"kind": version.kind, "systems": ["okta"], "reason": "Leaver"})
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert not ActionRequest.objects.exists()


def test_a_delegation_page_offers_the_custom_playbook(client, connection_admin, team, managers):
    version = _import(connection_admin)
    client.force_login(connection_admin)
    page = client.get(reverse("offboarding:delegation-new"))
    assert f'value="{version.kind}"'.encode() in page.content
    response = client.post(
        reverse("offboarding:delegation-new"),
        {
            "name": "Service desk",
            "team": team.pk,
            "allowed_actions": ["offboard", version.kind],
            "target_group_ids": "",
            "approver_group": managers.pk,
            "approvals_needed": 1,
            "expiry_hours": 24,
            "active": "on",
        },
    )
    assert response.status_code == 302
    listing = client.get(reverse("offboarding:policies")).content.decode()
    assert f"{NAME} (v1)" in listing


def test_the_request_form_asks_for_a_custom_playbook_with_its_option(
    client, connection_admin, helpdesk, delegation, fake_registry
):
    from tests.offboarding.test_views import sign_in

    version = _import(connection_admin)
    delegation.allowed_actions = [version.kind]
    delegation.save()
    fake_registry.add_user("00u1")
    sign_in(client, helpdesk)
    url = reverse("offboarding:request-new", kwargs={"okta_id": "00u1"})
    page = client.get(url, {"kind": version.kind})
    assert "Suspend in Okta" in page.content.decode()
    assert f"opt_{version.kind}_oauth_tokens".encode() in page.content
    response = client.post(
        url,
        {
            "kind": version.kind,
            "systems": ["okta"],
            "reason": "Leaver",
            f"opt_{version.kind}_oauth_tokens": "on",
        },
    )
    req = ActionRequest.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/requests/{req.pk}/")
    assert req.kind == version.kind and req.options == {"oauth_tokens": True}
    detail = client.get(response["Location"]).content.decode()
    assert f"{NAME} (v1)" in detail
