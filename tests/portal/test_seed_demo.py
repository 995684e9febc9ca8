"""`make run`'s demo users and policy: made once, reused, never printed into git."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from offboarding.models import AuditEvent, Delegation, ProtectedGroup

pytestmark = pytest.mark.django_db


def test_demo_users_policy_and_passwords_are_made_once(settings, tmp_path, capsys):
    settings.DEBUG = True
    settings.PORTAL_SANDBOX = True
    creds = tmp_path / "demo-credentials.txt"
    call_command("seed_demo", credentials_file=str(creds))
    first = creds.read_text()
    assert oct(creds.stat().st_mode & 0o777) == "0o600"
    users = get_user_model().objects
    assert users.get(username="helpdesk").groups.filter(name="Helpdesk").exists()
    assert users.get(username="admin").is_superuser
    password = dict(line.split() for line in first.splitlines())["approver"]
    assert users.get(username="approver").check_password(password)
    assert password in capsys.readouterr().out
    delegation = Delegation.objects.get()
    assert delegation.approver_group.name == "Approver" and delegation.approvals_needed == 1
    assert set(delegation.team.user_set.values_list("username", flat=True)) == {
        "helpdesk",
        "approver",
        "approver2",
    }
    assert ProtectedGroup.objects.get().name == "Administrators"
    assert AuditEvent.objects.filter(action__icontains="delegation").exists()

    call_command("seed_demo", credentials_file=str(creds))
    assert creds.read_text() == first
    assert Delegation.objects.count() == 1 and ProtectedGroup.objects.count() == 1
    assert users.get(username="approver").check_password(password)


def test_demo_users_are_refused_outside_debug(settings, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="debug runs only"):
        call_command("seed_demo", credentials_file=str(tmp_path / "c.txt"))
