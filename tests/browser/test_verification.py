"""Issue 13 in Chromium: an offboard's status page shows each system's read-back, in words.

The live server, a real qcluster process and the sandbox, as in test_journeys; the page is not
reloaded: the verdicts arrive through the live fragment.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from offboarding.models import SystemVerification
from tests.browser.test_journeys import (
    ALICE,
    RUN_TIMEOUT,
    SYSTEMS,
    approve_from_approvals_page,
    ask,
    find_and_open,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]


def test_the_status_page_shows_each_system_verified_with_what_was_read(
    new_page, sign_in, screenshot, password, sandbox, qcluster, browser_delegation
):
    helpdesk = new_page()
    sign_in(helpdesk, "helpdesk")
    find_and_open(helpdesk, "alice.a", "Alice Anders")
    # The plan says what the new steps would remove before anyone asks.
    expect(helpdesk.get_by_test_id("preflight-okta")).to_contain_text("(6 apps)")
    pk = ask(helpdesk, "action-offboard", "Left the company today")

    approver = new_page()
    sign_in(approver, "approver")
    approve_from_approvals_page(approver, pk, password)

    live = helpdesk.get_by_test_id("request-live")
    expect(live).to_have_attribute("data-state", "succeeded", timeout=RUN_TIMEOUT)
    for system in SYSTEMS:
        verdict = helpdesk.get_by_test_id(f"verification-{system}")
        expect(verdict).to_have_attribute("data-verdict", "verified")
        expect(verdict).to_contain_text("Verified")
    okta = helpdesk.get_by_test_id("verification-okta")
    expect(okta).to_contain_text("Okta shows the account SUSPENDED")
    okta.get_by_text("What was read").click()
    expect(okta.locator("dl.observed")).to_contain_text("app links")
    screenshot(helpdesk, "request-verified")

    # What the page says is what the sandbox holds: nothing left to sign in with.
    person = sandbox.person(ALICE)
    assert person["okta"]["apps"] == [] and person["okta"]["status"] == "SUSPENDED"
    assert set(person["okta"]["devices"].values()) == {"DEACTIVATED"}
    assert not any(person["graph"]["devices"].values())
    assert SystemVerification.objects.filter(action_request_id=pk).count() == 4
