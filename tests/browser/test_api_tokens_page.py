"""A Connection admin makes an API token in a real browser, sees it once, and revokes it."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_connection_admin_creates_a_token_that_works_then_revokes_it(
    page, sign_in, connection_admin, browser_delegation, live_server
):
    sign_in(page, connection_admin.username)
    page.goto("/api-tokens/")
    page.fill("#id_name", "hr-system")
    page.select_option("#id_team", label="Service desk")
    page.check("input[value='requests:read']")
    page.click("button:has-text('Create token')")
    token = page.input_value("#new-token")
    assert token.startswith("opk_")
    assert page.get_by_text("shown this once").is_visible()

    answer = httpx.get(
        f"{live_server.url}/api/v1/requests", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and answer.json()["items"] == []

    page.goto("/api-tokens/")
    assert token not in page.content()  # shown once only
    assert "Never used" not in page.content()  # the call above is its last use
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Revoke')")
    assert page.get_by_text("revoked: it no longer works").is_visible()
    again = httpx.get(
        f"{live_server.url}/api/v1/requests", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("application/problem+json")
