"""Every main page, at 375 px: nothing wider than the screen, a title that says where you are,
and a visible focus ring when moving by keyboard."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    ("helpdesk", "/", "Dashboard"),
    ("helpdesk", "/search/", "Search"),
    ("helpdesk", "/requests/", "Request history"),
    ("approver", "/approvals/", "Approvals"),
    ("helpdesk", "/bulk/", "Bulk request"),
    ("auditor", "/audit/", "Audit"),
    ("auditor", "/requests/", "Request history"),
    ("connection_admin", "/connections/", "Connections"),
    ("connection_admin", "/policies/", "Policies"),
    ("connection_admin", "/api-tokens/", "API tokens"),
    ("connection_admin", "/policies/events/", "Okta event policies"),  # issue 14
    ("connection_admin", "/playbooks/", "Playbooks"),  # issue 17
    ("connection_admin", "/playbooks/import", "Import a playbook"),
]


@pytest.mark.parametrize(("who", "path", "title"), PAGES)
def test_page_fits_375px_and_shows_keyboard_focus(page, sign_in, request, who, path, title):
    user = request.getfixturevalue(who)
    sign_in(page, user.username)
    page.set_viewport_size({"width": 375, "height": 740})
    response = page.goto(path)
    assert response.status == 200
    assert title in page.title()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width}px wide at 375px"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' ' + "
        "getComputedStyle(document.activeElement).outlineWidth"
    )
    assert outline.split()[0] != "none" and outline.split()[1] != "0px", outline
