"""`make run`'s demo users and policy: made once, reused, never printed into git."""

from __future__ import annotations

import time

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
        "responder",
    }
    assert ProtectedGroup.objects.get().name == "Administrators"
    assert AuditEvent.objects.filter(action__icontains="delegation").exists()

    call_command("seed_demo", credentials_file=str(creds))
    assert creds.read_text() == first
    assert Delegation.objects.count() == 1 and ProtectedGroup.objects.count() == 1
    assert users.get(username="approver").check_password(password)


def test_the_demo_responder_has_totp_and_its_secret_is_kept_and_printed(settings, tmp_path, capsys):
    """Break-glass needs TOTP (issue 14): the demo Responder is enrolled once; the secret lives
    beside the passwords (mode 600) and `make run` prints it to add to an authenticator app."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

    settings.DEBUG = True
    creds = tmp_path / "demo-credentials.txt"
    call_command("seed_demo", credentials_file=str(creds))
    secret_file = tmp_path / "demo-totp.txt"
    secret = secret_file.read_text().strip()
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    assert secret in capsys.readouterr().out
    responder = get_user_model().objects.get(username="responder")
    assert responder.groups.filter(name="Responder").exists()
    totp = TOTP(Authenticator.objects.get(user=responder, type=Authenticator.Type.TOTP))
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    assert totp.validate_code(code)
    call_command("seed_demo", credentials_file=str(creds))
    assert Authenticator.objects.filter(user=responder).count() == 1
    assert secret_file.read_text().strip() == secret


def test_demo_users_are_refused_outside_debug(settings, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="debug runs only"):
        call_command("seed_demo", credentials_file=str(tmp_path / "c.txt"))
