"""`manage.py okta_hook_setup` (what `make run` uses): the secret made once, the hook registered."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from connections import registry
from offboarding.models import EventHook

pytestmark = pytest.mark.django_db


def test_the_secret_is_generated_once_and_the_url_printed(okta_connection):
    out = io.StringIO()
    call_command("okta_hook_setup", base_url="http://127.0.0.1:8000", stdout=out)
    first = EventHook.objects.get().secret_ciphertext
    call_command("okta_hook_setup", base_url="http://127.0.0.1:8000", stdout=io.StringIO())
    assert EventHook.objects.get().secret_ciphertext == first
    text = out.getvalue()
    assert f"http://127.0.0.1:8000/hooks/okta/{okta_connection.pk}/" in text
    assert EventHook.objects.get().decrypt_secret() not in text


def test_register_sends_the_hook_to_okta(okta_connection, monkeypatch):
    monkeypatch.setattr(registry, "okta_event_hook_create", lambda **kw: {"id": "who9"})
    monkeypatch.setattr(registry, "okta_event_hook_verify", lambda hook_id: {})
    out = io.StringIO()
    call_command("okta_hook_setup", base_url="http://x.test", register=True, stdout=out)
    assert "who9" in out.getvalue()


def test_without_an_okta_connection_it_says_so(db):
    with pytest.raises(CommandError, match="Okta connection"):
        call_command("okta_hook_setup", base_url="http://x.test")
