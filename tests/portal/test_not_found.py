"""Issue 16, item 11: an unknown path gets the portal's own 404 page, also under DEBUG."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_path_shows_the_portals_404(client, helpdesk, settings, debug):
    settings.DEBUG = debug
    client.force_login(helpdesk)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Back to the dashboard" in page and "URLconf" not in page


def test_a_missing_slash_still_redirects(client, helpdesk):
    client.force_login(helpdesk)
    response = client.get("/search?q=ali")
    assert response.status_code == 301 and response["Location"] == "/search/?q=ali"
    assert client.get("/audit/verify").status_code != 301  # a real URL without a slash stays
