"""Connection admins manage delegations and protected groups; nobody else can."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from offboarding.models import AuditEvent, Delegation, ProtectedGroup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["helpdesk", "approver", "auditor", "outsider"])
def test_other_roles_cannot_see_or_change_policies(client, request, who, managers):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("offboarding:policies")).status_code == 403
    response = client.post(reverse("offboarding:protected-add"), {"okta_group_id": "00gX1"})
    assert response.status_code == 403
    assert not ProtectedGroup.objects.exists()


def _form(team, approvers, **overrides):
    data = {
        "name": "Service desk",
        "team": team.pk,
        "allowed_actions": ["reset_sessions", "offboard"],
        "target_group_ids": "00gStaff1\n00gStaff2",
        "approver_group": approvers.pk,
        "approvals_needed": 1,
        "expiry_hours": 24,
        "active": "on",
    }
    data.update(overrides)
    return data


def test_connection_admin_creates_and_edits_a_delegation(client, connection_admin, team, managers):
    client.force_login(connection_admin)
    response = client.post(reverse("offboarding:delegation-new"), _form(team, managers))
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert delegation.allowed_actions == ["reset_sessions", "offboard"]
    assert delegation.target_group_ids == ["00gStaff1", "00gStaff2"]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELEGATION_CHANGED).count() == 1

    edit = reverse("offboarding:delegation-edit", kwargs={"pk": delegation.pk})
    assert b"00gStaff2" in client.get(edit).content
    client.post(edit, _form(team, managers, approvals_needed=2, target_group_ids=""))
    delegation.refresh_from_db()
    assert delegation.approvals_needed == 2 and delegation.target_group_ids == []
    assert b"Service desk" in client.get(reverse("offboarding:policies")).content


def test_unreachable_approval_count_is_refused_with_a_reason(
    client, connection_admin, team, managers
):
    client.force_login(connection_admin)
    response = client.post(
        reverse("offboarding:delegation-new"), _form(team, managers, approvals_needed=3)
    )
    assert response.status_code == 200
    assert (
        "has 2 active Approver(s); 3 approvals could never be reached" in response.content.decode()
    )
    assert not Delegation.objects.exists()


def test_bad_delegation_input_changes_nothing(client, connection_admin, team, managers):
    client.force_login(connection_admin)
    empty_team = Group.objects.create(name="Nobody approves")
    for bad in (
        _form(team, managers, allowed_actions=["explode"]),
        _form(team, managers, target_group_ids="00g ok; DROP TABLE"),
        _form(team, managers, expiry_hours=0),
        _form(team, empty_team),
    ):
        response = client.post(reverse("offboarding:delegation-new"), bad)
        assert response.status_code == 200 and b"errorlist" in response.content
    assert not Delegation.objects.exists()
    assert client.get(reverse("offboarding:delegation-edit", kwargs={"pk": 999})).status_code == 404


def test_protecting_and_unprotecting_a_group_is_audited(client, connection_admin):
    client.force_login(connection_admin)
    client.post(
        reverse("offboarding:protected-add"), {"okta_group_id": "00gAdmins1", "name": "Admins"}
    )
    group = ProtectedGroup.objects.get()
    assert group.name == "Admins"
    bad = client.post(
        reverse("offboarding:protected-add"), {"okta_group_id": "../etc"}, follow=True
    )
    assert b"Enter an Okta group id" in bad.content and ProtectedGroup.objects.count() == 1
    client.post(reverse("offboarding:protected-remove", kwargs={"pk": group.pk}))
    assert not ProtectedGroup.objects.exists()
    changes = AuditEvent.objects.filter(action=AuditEvent.Action.PROTECTED_GROUP_CHANGED)
    assert [e.details["change"] for e in changes.order_by("seq")] == ["added", "removed"]
