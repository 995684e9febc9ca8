"""Encryption of secrets: binding, corrupt and foreign ciphertexts, rotation, system checks."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from connections import checks, crypto
from connections.exceptions import SecretUnavailable
from connections.models import Connection

from .conftest import CANARY

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def test_secret_round_trips_and_ciphertext_holds_no_plaintext():
    token = crypto.encrypt_secret({"api_token": CANARY}, bind="row1:secret")
    assert CANARY not in token
    assert crypto.decrypt_secret(token, bind="row1:secret") == {"api_token": CANARY}


def test_ciphertext_copied_to_another_row_is_refused():
    token = crypto.encrypt_secret({"api_token": CANARY}, bind="row1:secret")
    with pytest.raises(SecretUnavailable) as info:
        crypto.decrypt_secret(token, bind="row2:secret")
    assert "another connection" in str(info.value)
    assert CANARY not in str(info.value)


@pytest.mark.parametrize("token", ["", "not-a-token", "gAAAAABcorrupt", "gAAAAA" + "A" * 100])
def test_corrupt_ciphertext_raises_a_clear_error_never_plaintext(token):
    with pytest.raises(SecretUnavailable):
        crypto.decrypt_secret(token, bind="row1:secret")


def test_ciphertext_under_a_foreign_key_is_refused():
    foreign = Fernet(Fernet.generate_key()).encrypt(
        json.dumps({"v": 1, "bind": "row1:secret", "data": {"x": CANARY}}).encode()
    )
    with pytest.raises(SecretUnavailable) as info:
        crypto.decrypt_secret(foreign.decode(), bind="row1:secret")
    assert "cannot be decrypted" in str(info.value)


def test_payload_without_binding_is_refused(settings):
    raw = Fernet(settings.PORTAL_ENCRYPTION_KEYS[0])
    token = raw.encrypt(json.dumps({"data": {"x": 1}}).encode()).decode()
    with pytest.raises(SecretUnavailable):
        crypto.decrypt_secret(token, bind="row1:secret")


def test_an_already_encrypted_value_is_never_encrypted_twice():
    inner = crypto.encrypt_secret({"api_token": CANARY}, bind="row1:secret")
    with pytest.raises(ValueError, match="already encrypted"):
        crypto.encrypt_secret({"api_token": inner}, bind="row1:secret")


def test_no_key_configured_raises_secret_unavailable(settings):
    settings.PORTAL_ENCRYPTION_KEYS = []
    with pytest.raises(SecretUnavailable, match="No encryption key"):
        crypto.encrypt_secret({"a": "b"}, bind="x")


def test_first_key_encrypts_and_all_keys_decrypt(settings):
    settings.PORTAL_ENCRYPTION_KEYS = [OLD_KEY]
    token = crypto.encrypt_secret({"a": CANARY}, bind="r:secret")
    settings.PORTAL_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert crypto.decrypt_secret(token, bind="r:secret") == {"a": CANARY}
    fresh = crypto.encrypt_secret({"a": CANARY}, bind="r:secret")
    settings.PORTAL_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.decrypt_secret(fresh, bind="r:secret") == {"a": CANARY}
    with pytest.raises(SecretUnavailable):
        crypto.decrypt_secret(token, bind="r:secret")


@pytest.mark.django_db
def test_rotate_command_reencrypts_every_secret_under_the_first_key(settings, capsys):
    settings.PORTAL_ENCRYPTION_KEYS = [OLD_KEY]
    rows = []
    for system in ("okta", "zoom"):
        connection = Connection(system=system, label=system)
        connection.set_secret({"client_secret": CANARY})
        connection.save()
        rows.append(connection)
    Connection.objects.create(system="google", label="no secret")
    settings.PORTAL_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_encryption_keys")
    assert "Re-encrypted 2 secret(s)" in capsys.readouterr().out
    settings.PORTAL_ENCRYPTION_KEYS = [NEW_KEY]  # the old key can now be dropped
    for row in rows:
        row.refresh_from_db()
        assert row.decrypt_secret() == {"client_secret": CANARY}
        assert row.secret_version == 1


@pytest.mark.django_db
def test_rotate_command_changes_nothing_when_a_secret_is_unreadable(settings):
    from django.core.management.base import CommandError

    good = Connection(system="okta", label="ok")
    good.set_secret({"api_token": CANARY})
    good.save()
    bad = Connection.objects.create(system="zoom", label="bad", secret_ciphertext="gAAAAAgarbage")
    before = Connection.objects.get(pk=good.pk).secret_ciphertext
    with pytest.raises(CommandError, match="Zoom"):
        call_command("rotate_encryption_keys")
    assert Connection.objects.get(pk=good.pk).secret_ciphertext == before
    assert bad.pk


@pytest.mark.django_db
def test_secret_swapped_between_rows_fails_to_decrypt():
    a = Connection(system="okta", label="a")
    a.set_secret({"api_token": CANARY})
    a.save()
    b = Connection(system="zoom", label="b")
    b.set_secret({"client_secret": "other"})
    b.save()
    Connection.objects.filter(pk=b.pk).update(secret_ciphertext=a.secret_ciphertext)
    b.refresh_from_db()
    with pytest.raises(SecretUnavailable):
        b.decrypt_secret()


def test_check_errors_without_key_when_debug_is_off(settings):
    settings.DEBUG = False
    settings.PORTAL_ENCRYPTION_KEYS = []
    assert [m.id for m in checks.check_encryption_keys(None)] == ["connections.E001"]


def test_check_only_warns_without_key_in_debug(settings):
    settings.DEBUG = True
    settings.PORTAL_ENCRYPTION_KEYS = []
    assert [m.id for m in checks.check_encryption_keys(None)] == ["connections.W001"]


@pytest.mark.parametrize("bad", ["short", "!!!notbase64!!!", "QUJD"])
def test_check_errors_on_a_malformed_key(settings, bad):
    settings.PORTAL_ENCRYPTION_KEYS = [NEW_KEY, bad]
    messages = checks.check_encryption_keys(None)
    assert [m.id for m in messages] == ["connections.E002"]
    assert "key #2" in messages[0].msg
    assert bad not in messages[0].msg


def test_check_passes_with_good_keys(settings):
    settings.PORTAL_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert checks.check_encryption_keys(None) == []
