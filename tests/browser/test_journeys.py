"""Three journeys in Chromium against the live server, a real qcluster process and the sandbox.

1. Helpdesk finds a person by the first letters of their name and asks to reset their sessions;
   an approver approves; the status page turns every system green by itself; the sandbox shows
   the sessions gone; the auditor finds every step in the audit trail and exports it.
2. An offboard with Zoom failing ends partially failed and says why; with the fault off,
   "Retry failed steps" for Zoom brings it to succeeded.
3. The requester cannot approve their own request: no button, and a forged POST is refused.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from offboarding.models import ActionRequest, AuditEvent, StepRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]

ALICE = "alice.anders@acme.example"
SYSTEMS = ("okta", "google", "msgraph", "zoom")
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
RUN_TIMEOUT = 45_000  # ms: the worker polls every 0.2 s; a step takes well under a second


def keep_for_readme(path: Path, name: str) -> None:
    """Refresh the README's screenshots only when asked (UPDATE_SCREENSHOTS=1): a test run must
    not change files that git tracks."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SHOTS / f"{name}.png")


def reauthenticate_if_asked(page, password: str) -> None:
    """allauth asks for the password again when the sign-in is older than five minutes."""
    if "reauthenticate" in page.url:
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name=re.compile("Confirm|Re-?authenticate", re.I)).click()


def request_id(page) -> int:
    return int(re.search(r"/requests/(\d+)/", page.url).group(1))


def find_and_open(page, letters: str, name: str, before_opening=None) -> None:
    page.goto("/search/")
    page.get_by_label("Name, email or login").press_sequentially(letters, delay=60)
    link = page.get_by_role("link", name=name)
    link.wait_for()
    if before_opening:
        before_opening(page)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def ask(page, kind_testid: str, reason: str) -> int:
    page.get_by_test_id(kind_testid).click()
    page.get_by_label("Reason").fill(reason)
    page.get_by_test_id("submit-request").click()
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    expect(page.get_by_test_id("request-state")).to_contain_text("Pending approval")
    return request_id(page)


def approve_from_approvals_page(page, pk: int, password: str, comment: str = "") -> None:
    page.goto("/approvals/")
    card = page.get_by_test_id(f"approval-{pk}")
    if comment:
        card.get_by_label("Comment").fill(comment)
    card.get_by_test_id(f"approve-{pk}").click()
    reauthenticate_if_asked(page, password)
    page.wait_for_url(re.compile(rf"/requests/{pk}/$"))


def test_reset_sessions_from_search_to_green_and_audited(
    new_page, sign_in, screenshot, password, sandbox, qcluster, browser_delegation, auditor
):
    auditor_user = auditor
    before = sandbox.person(ALICE)
    assert before["okta"]["sessions"] and before["zoom"]["sso_tokens"]

    helpdesk = new_page()
    sign_in(helpdesk, "helpdesk")
    find_and_open(
        helpdesk,
        "Ali",
        "Alice Anders",
        before_opening=lambda p: keep_for_readme(screenshot(p, "search"), "search"),
    )
    expect(helpdesk.get_by_test_id("preflight-zoom")).to_contain_text("will")
    keep_for_readme(screenshot(helpdesk, "user-view"), "user-view")
    pk = ask(helpdesk, "action-reset_sessions", "Phone stolen on the train (INC-4711)")
    screenshot(helpdesk, "request-pending")

    approver = new_page()
    sign_in(approver, "approver")
    approver.goto("/approvals/")
    expect(approver.get_by_test_id("approvals-count")).to_have_text("1 waiting for you")
    keep_for_readme(screenshot(approver, "approvals"), "approvals")
    approve_from_approvals_page(approver, pk, password, comment="Confirmed with the manager")
    approver.evaluate("window.__sameDocument = true")
    for system in SYSTEMS:
        expect(approver.get_by_test_id(f"system-{system}")).to_have_attribute(
            "data-status", "succeeded", timeout=RUN_TIMEOUT
        )
    expect(approver.get_by_test_id("request-live")).to_have_attribute(
        "data-state", "succeeded", timeout=RUN_TIMEOUT
    )
    assert approver.evaluate("window.__sameDocument === true"), "the page was reloaded"
    keep_for_readme(screenshot(approver, "request-status"), "request-status")

    after = sandbox.person(ALICE)
    assert after["okta"]["sessions"] in (0, [], {})
    assert after["zoom"]["sso_tokens"] in (0, [], {})
    assert after["google"]["sign_outs"] > before["google"]["sign_outs"]
    assert (
        after["graph"]["signInSessionsValidFromDateTime"]
        != before["graph"]["signInSessionsValidFromDateTime"]
    )
    for system in ("okta", "google", "zoom", "graph"):
        assert sandbox.effects(system), f"no state-changing call reached {system}"

    auditor = new_page()
    sign_in(auditor, auditor_user.username)
    auditor.goto("/audit/")
    table = auditor.get_by_test_id("audit")
    step_keys = list(StepRun.objects.filter(action_request_id=pk).values_list("key", flat=True))
    assert len(step_keys) == 8  # a clear, sign-out or revoke, and a read-back, per system
    for key in step_keys:
        expect(table.locator("dd", has_text=key).first).to_be_visible()
    screenshot(auditor, "audit")
    export = auditor.get_by_test_id("audit-export-csv")
    assert export.count() == 1, "the audit page offers no CSV export"
    response = auditor.request.get(export.get_attribute("href"))
    assert response.ok and "text/csv" in response.headers["content-type"]
    csv_text = response.text()
    for key in step_keys:
        assert key in csv_text
    assert AuditEvent.objects.filter(action=AuditEvent.Action.USER_SEARCH).exists()


def test_offboard_with_a_failing_system_then_retry_that_system(
    new_page, sign_in, screenshot, password, sandbox, qcluster, browser_delegation
):
    helpdesk = new_page()
    sign_in(helpdesk, "helpdesk")
    find_and_open(helpdesk, "alice.a", "Alice Anders")
    pk = ask(helpdesk, "action-offboard", "Left the company today")
    screenshot(helpdesk, "request-offboard-pending")

    sandbox.set_fault("zoom", error_rate=1.0)
    approver = new_page()
    sign_in(approver, "approver")
    approve_from_approvals_page(approver, pk, password)

    live = helpdesk.get_by_test_id("request-live")
    expect(live).to_have_attribute("data-state", "partially_failed", timeout=RUN_TIMEOUT)
    expect(helpdesk.get_by_test_id("system-zoom")).to_have_attribute("data-status", "failed")
    expect(helpdesk.get_by_test_id("error-zoom.deactivate")).to_contain_text("Zoom")
    for system in ("okta", "google", "msgraph"):
        expect(helpdesk.get_by_test_id(f"system-{system}")).to_have_attribute(
            "data-status", "succeeded"
        )
    expect(helpdesk.get_by_test_id("retry-okta")).to_have_count(0)
    screenshot(helpdesk, "request-partially-failed")

    sandbox.clear_faults()
    helpdesk.get_by_test_id("retry-zoom").click()
    expect(helpdesk.get_by_test_id("request-live")).to_have_attribute(
        "data-state", "succeeded", timeout=RUN_TIMEOUT
    )
    expect(helpdesk.get_by_test_id("system-zoom")).to_have_attribute("data-status", "succeeded")
    # Issue 16: the failed round stays visible beside the successful retry.
    expect(helpdesk.get_by_test_id("round-zoom.deactivate-1")).to_contain_text("failed after")
    expect(helpdesk.get_by_test_id("attempts-zoom.deactivate")).to_contain_text("in 2 rounds")
    expect(helpdesk.get_by_test_id("lockout-zoom")).to_contain_text("waiting for a retry")
    expect(helpdesk.get_by_test_id("run-timeline-table")).to_contain_text("after approval")
    expect(
        helpdesk.locator("[data-testid=run-timeline] rect[data-kind=wait]").first
    ).to_be_attached()
    keep_for_readme(screenshot(helpdesk, "request-retried"), "request-timeline")
    assert sandbox.person(ALICE)["zoom"]["status"] != "active"
    assert ActionRequest.objects.get(pk=pk).state == ActionRequest.State.SUCCEEDED


def test_the_requester_cannot_approve_their_own_request(
    new_page, sign_in, screenshot, sandbox, sandbox_connections, browser_delegation
):
    approver = new_page(width=375, height=800)
    sign_in(approver, "approver")
    find_and_open(approver, "Ali", "Alice Anders")
    pk = ask(approver, "action-reset_sessions", "Asked for by the manager")
    expect(approver.get_by_test_id("approve")).to_have_count(0)
    expect(approver.get_by_test_id("own-request")).to_contain_text(
        "You asked for this; another approver must decide."
    )
    approver.goto("/approvals/")
    expect(approver.get_by_test_id(f"why-{pk}")).to_contain_text("another approver must decide")
    expect(approver.get_by_test_id(f"approve-{pk}")).to_have_count(0)
    width = approver.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the approvals page is {width}px wide at 375px"
    screenshot(approver, "approvals-own-request-375px")

    req = ActionRequest.objects.get(pk=pk)
    csrf = next(c["value"] for c in approver.context.cookies() if c["name"] == "csrftoken")
    forged = approver.request.post(
        f"/requests/{pk}/approve",
        form={"fingerprint": req.fingerprint, "csrfmiddlewaretoken": csrf},
        headers={"X-CSRFToken": csrf, "Referer": approver.url},
        max_redirects=0,
    )
    assert forged.status == 403
    req.refresh_from_db()
    assert req.state == ActionRequest.State.PENDING_APPROVAL and not req.approvals.exists()
