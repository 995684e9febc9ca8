"""Each role signs in through the real login page and sees its own navigation."""

from __future__ import annotations

import pytest

from offboarding import permissions as perms
from portal.navigation import navigation_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("helpdesk", "Helpdesk"),
        ("approver", "Approver"),
        ("auditor", "Auditor"),
        ("connection_admin", "Connection admin"),
    ],
)
def test_each_role_signs_in_and_sees_its_navigation(page, sign_in, screenshot, request, who, role):
    user = request.getfixturevalue(who)
    sign_in(page, user.username)
    assert page.get_by_test_id("role").inner_text() == role
    nav = page.get_by_role("navigation", name="Main")
    shown = nav.get_by_role("link").all_inner_texts()
    assert shown[0] == "Dashboard"
    assert shown == [item["label"] for item in navigation_for(user)]
    if role == "Connection admin" and perms.can_manage_connections(user):
        assert "Search users" not in shown and "Approvals" not in shown
    screenshot(page, f"home-{who}")


def test_sign_out_is_a_button_and_ends_the_session(page, sign_in, helpdesk):
    sign_in(page, helpdesk.username)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_login_page_is_usable_at_375px_and_by_keyboard(page, password, helpdesk):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")  # skip link first
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "login"
    page.keyboard.type(helpdesk.username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/accounts/login/" not in page.url, page.inner_text("main")
    page.get_by_role("heading", name="Dashboard").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide at a 375px viewport"
