"""The bulk journey in Chromium against the live server, a real qcluster process and the sandbox:
helpdesk uploads a CSV, reads the preview's verdicts and submits; an approver finds the batch on
the Approvals page, approves it once; the progress page fills by itself until every step ended."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from offboarding.models import ActionRequest, Batch
from tests.browser.test_journeys import RUN_TIMEOUT, reauthenticate_if_asked

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]

PEOPLE = ("alice.anders@acme.example", "bob.brandt@acme.example", "carol.chen@acme.example")
CSV = ("\ufeffEmail;Reason\n" + "".join(f"{p.upper()};phishing wave\n" for p in PEOPLE)).encode()


def test_bulk_upload_preview_approval_and_live_progress(
    new_page, sign_in, screenshot, password, sandbox, qcluster, browser_delegation
):
    before = {p: sandbox.person(p)["okta"]["sessions"] for p in PEOPLE}
    assert all(before.values())

    helpdesk = new_page()
    sign_in(helpdesk, "helpdesk")
    helpdesk.goto("/bulk/")
    helpdesk.get_by_label("Action").select_option("reset_sessions")
    helpdesk.get_by_label("CSV file").set_input_files(
        files=[
            {"name": "people.csv", "mimeType": "text/csv", "buffer": CSV + b"nobody@x.example\n"}
        ]
    )
    helpdesk.get_by_label("Reason").fill("Phishing wave (INC-5000)")
    helpdesk.get_by_test_id("bulk-preview").click()
    helpdesk.wait_for_url(re.compile(r"/bulk/\d+/$"))
    counts = helpdesk.get_by_test_id("verdict-counts")
    expect(counts.locator("[data-verdict=found]")).to_contain_text("3")
    expect(counts.locator("[data-verdict=unknown]")).to_contain_text("1")
    screenshot(helpdesk, "bulk-preview")
    helpdesk.get_by_test_id("batch-submit").click()
    expect(helpdesk.get_by_test_id("batch-state")).to_have_attribute(
        "data-state", "pending_approval"
    )
    batch = Batch.objects.get()

    approver = new_page()
    sign_in(approver, "approver")
    approver.goto("/approvals/")
    approver.get_by_test_id(f"open-batch-{batch.pk}").click()
    expect(approver.get_by_test_id("batch-rows")).to_contain_text(PEOPLE[0].upper())
    approver.get_by_test_id("batch-approve").click()
    reauthenticate_if_asked(approver, password)
    approver.wait_for_url(re.compile(rf"/bulk/{batch.pk}/$"))
    approver.evaluate("window.__sameDocument = true")
    expect(approver.get_by_test_id("batch-live")).to_have_attribute(
        "data-done", "true", timeout=RUN_TIMEOUT
    )
    assert approver.evaluate("window.__sameDocument === true"), "the page was reloaded"
    expect(approver.get_by_test_id("batch-percent")).to_have_text("100%")
    screenshot(approver, "bulk-progress")
    approver.set_viewport_size({"width": 375, "height": 740})
    width = approver.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the batch page is {width}px wide at 375px"

    made = ActionRequest.objects.filter(batch=batch)
    assert made.count() == 3 and {r.state for r in made} == {"succeeded"}
    assert all(not sandbox.person(p)["okta"]["sessions"] for p in PEOPLE)
