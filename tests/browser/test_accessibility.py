"""Issue 16: axe-core in Chromium finds no serious or critical violation on any page, for every
role. axe is a test-only asset (tests/browser/vendor/axe.min.js, MPL-2.0), injected into the page;
the context bypasses the portal's Content-Security-Policy only so that it can be injected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.test_break_glass_journey import (  # noqa: F401 (fixture)
    browser_responder,
    sign_in_with_totp,
)
from tests.browser.test_journeys import find_and_open, request_id

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")


@pytest.fixture
def checked_page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1200, "height": 800}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
        const r = await axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }"""
    )
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def visit(page, paths) -> list[str]:
    problems = []
    for path in paths:
        page.goto(path)
        problems += violations(page)
    return problems


def test_no_serious_violations_for_any_role(
    checked_page,
    sign_in,
    password,
    sandbox_connections,
    browser_delegation,
    auditor,
    connection_admin,
    browser_responder,  # noqa: F811
):
    page = checked_page
    problems = visit(page, ["/accounts/login/"])
    page.goto("/accounts/login/")

    sign_in(page, "helpdesk")
    problems += visit(page, ["/", "/search/?q=Anders", "/requests/", "/no/such/page/"])
    find_and_open(page, "Ali", "Alice Anders")
    problems += violations(page)
    page.get_by_test_id("action-offboard").click()
    problems += violations(page)
    page.get_by_test_id("submit-request").click()  # no reason: the error summary
    problems += violations(page)
    page.get_by_label("Reason").fill("Leaver (HR-1)")
    page.get_by_test_id("submit-request").click()
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    pk = request_id(page)
    problems += violations(page)
    page.context.clear_cookies()

    sign_in(page, "approver")
    problems += visit(page, ["/approvals/", f"/requests/{pk}/", "/reviews/"])
    page.context.clear_cookies()

    sign_in(page, auditor.username)
    problems += visit(page, ["/audit/", "/audit/event/1/", "/requests/"])
    page.context.clear_cookies()

    sign_in(page, connection_admin.username)
    problems += visit(
        page,
        ["/connections/", "/connections/okta/", "/policies/", "/policies/delegations/new"],
    )
    page.context.clear_cookies()

    sign_in_with_totp(page, "responder", password)
    find_and_open(page, "Ali", "Alice Anders")
    page.get_by_test_id("break-glass-offboard").click()
    problems += violations(page)
    assert not problems, "\n".join(problems)
