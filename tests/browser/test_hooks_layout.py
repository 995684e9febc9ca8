"""The Connections page with the Okta event hook panel fits a 375 px screen (issue 14)."""

from __future__ import annotations

import pytest

from connections.models import Connection
from offboarding.models import EventHook

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_hook_panel_fits_375px_and_shows_the_url(page, sign_in, connection_admin):
    okta = Connection.objects.create(system="okta", label="Okta", enabled=True)
    hook = EventHook(connection=okta)
    hook.set_secret("browser-hook-secret-0123456789")
    hook.save()
    sign_in(page, connection_admin.username)
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.goto("/connections/").status == 200
    panel = page.get_by_test_id("okta-hook-status")
    assert f"/hooks/okta/{okta.pk}/" in panel.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.get_by_role("button", name="Register the hook in Okta").is_visible()
