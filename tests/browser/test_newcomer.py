"""Issue 16 (what a newcomer tripped over), in Chromium against the live server and the sandbox."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.conf import settings
from playwright.sync_api import expect

from offboarding.models import ActionRequest
from tests.browser.test_journeys import find_and_open, keep_for_readme, request_id

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sandbox]


def age_sign_in(page, seconds: int = 600) -> None:
    """Make the browser's sign-in `seconds` older, as if the person had signed in long ago."""
    key = next(
        c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= seconds
    session["account_authentication_methods"] = records
    session.save()


def enter_password(page, password: str) -> None:
    page.wait_for_url(re.compile(r"/reauthenticate/"))
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name=re.compile("Confirm|Re-?authenticate", re.I)).click()


def test_an_offboard_and_its_approval_survive_the_password_prompt(
    new_page, sign_in, password, sandbox_connections, browser_delegation
):
    agent = new_page()
    sign_in(agent, "helpdesk")
    find_and_open(agent, "Ali", "Alice Anders")
    agent.get_by_test_id("action-offboard").click()
    agent.get_by_label("Reason").fill("Leaver, last day today (HR-5521)")
    age_sign_in(agent)
    agent.get_by_test_id("submit-request").click()
    enter_password(agent, password)
    agent.wait_for_url(re.compile(r"/requests/\d+/$"))
    pk = request_id(agent)
    expect(agent.get_by_test_id("request-state")).to_contain_text("Pending approval")
    req = ActionRequest.objects.get(pk=pk)
    assert (req.kind, req.reason) == ("offboard", "Leaver, last day today (HR-5521)")

    approver = new_page()
    sign_in(approver, "approver")
    age_sign_in(approver)
    approver.goto("/approvals/")
    approver.get_by_test_id(f"approve-{pk}").click()
    enter_password(approver, password)
    approver.wait_for_url(re.compile(rf"/requests/{pk}/$"))
    assert ActionRequest.objects.get(pk=pk).approvals.count() == 1


def test_the_status_page_follows_the_request_without_contradicting_itself(
    new_page, sign_in, password, sandbox_connections, browser_delegation, screenshot
):
    agent = new_page()
    sign_in(agent, "helpdesk")
    find_and_open(agent, "Ali", "Alice Anders")
    agent.get_by_test_id("action-reset_sessions").click()
    agent.get_by_label("Reason").fill("Phone stolen (INC-9)")
    agent.get_by_test_id("submit-request").click()
    agent.wait_for_url(re.compile(r"/requests/\d+/$"))
    pk = request_id(agent)
    expect(agent.get_by_test_id("waiting-approvers")).to_contain_text("IT managers")
    expect(agent.get_by_test_id("waiting-expires")).to_be_visible()
    agent.get_by_test_id("remind").click()
    expect(agent.locator(".messages")).to_contain_text("reminded by email")
    expect(agent.get_by_test_id("remind-later")).to_be_visible()
    keep_for_readme(screenshot(agent, "request-waiting"), "request-waiting")

    approver = new_page()
    sign_in(approver, "approver")
    approver.goto("/approvals/")
    approver.get_by_test_id(f"approve-{pk}").click()
    approver.wait_for_url(re.compile(rf"/requests/{pk}/$"))

    # The agent's page updates by itself: no stale "pending approval", no expiry, no wait box.
    expect(agent.get_by_test_id("request-state")).not_to_contain_text(
        "Pending approval", timeout=10_000
    )
    main = agent.locator("main")
    expect(main).not_to_contain_text("pending approval", ignore_case=True)
    expect(main).not_to_contain_text("Expires")
    expect(agent.get_by_test_id("waiting")).to_have_count(0)


@pytest.mark.parametrize(
    "words, name",
    [
        ("Alice Anders", "Alice Anders"),
        ("Anders, Alice", "Alice Anders"),
        ("ALICE.ANDERS@acme.example", "Alice Anders"),
        ("Frank Fischer", "Frank Fischer"),  # deactivated in Okta
    ],
)
def test_full_names_last_first_emails_and_deactivated_people_are_found(
    page, sign_in, sandbox_connections, helpdesk, words, name
):
    sign_in(page, "helpdesk")
    page.goto("/search/")
    expect(page.get_by_test_id("search-statuses")).to_contain_text("deactivated")
    page.get_by_label("Name, email or login").fill(words)
    expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_test_id("search-empty")).to_have_count(0)


def test_an_auditor_reads_details_in_words_on_a_short_page_and_opens_one_event(
    page, sign_in, auditor, screenshot
):
    from offboarding.audit import audit_record
    from offboarding.models import AuditEvent

    for i in range(120):
        audit_record(
            action=AuditEvent.Action.AUDIT_VERIFIED,
            actor=None,
            details={"intact": True, "broken_at": None, "count": i, "problem": ""},
        )
    sign_in(page, auditor.username)
    page.goto("/audit/")
    table = page.get_by_test_id("audit")
    expect(table).not_to_contain_text("{'intact'")
    expect(table.locator("dt", has_text="Broken at").first).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 5000, f"the audit page is {height} px tall"
    newest = AuditEvent.objects.filter(action=AuditEvent.Action.AUDIT_VERIFIED).order_by("-seq")[0]
    page.get_by_test_id(f"event-link-{newest.seq}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Audit event #{newest.seq}")
    expect(page.get_by_test_id("event-details")).to_contain_text("Intact")
    keep_for_readme(screenshot(page, "audit-event"), "audit-event")


def test_a_form_lists_its_problems_at_the_top_in_the_plans_order_under_search(
    page, sign_in, sandbox_connections, browser_delegation, screenshot
):
    sign_in(page, "helpdesk")
    find_and_open(page, "Ali", "Alice Anders")
    page.get_by_test_id("action-offboard").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Search users")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Requests")).not_to_have_attribute("aria-current", "page")
    plan_order = [
        row.get_attribute("data-testid").removeprefix("plan-")
        for row in page.locator("[data-testid^=plan-]").all()
        if row.get_attribute("data-testid") != "plan"
    ]
    boxes = [b.get_attribute("value") for b in page.locator("input[name=systems]").all()]
    assert plan_order == boxes, (plan_order, boxes)

    page.get_by_test_id("submit-request").click()
    summary = page.get_by_test_id("form-errors")
    expect(summary).to_be_visible()
    top = summary.bounding_box()["y"]
    assert top < page.locator("[data-testid=plan]").bounding_box()["y"], "summary not at the top"
    summary.get_by_test_id("error-link-reason").click()
    assert page.evaluate("document.activeElement.name") == "reason"
    keep_for_readme(screenshot(page, "request-errors"), "request-errors")
    assert ActionRequest.objects.count() == 0


def test_a_connection_admin_picks_okta_groups_by_name_and_disable_asks_first(
    page, sign_in, sandbox_connections, connection_admin, screenshot
):
    from connections.models import Connection
    from offboarding.models import ProtectedGroup

    sign_in(page, connection_admin.username)
    page.goto("/policies/")
    page.get_by_label("Find an Okta group by name").first.fill("Admin")
    page.get_by_role("button", name="Protect Administrators").click()
    expect(page.locator("main")).to_contain_text("Administrators")
    assert ProtectedGroup.objects.filter(name="Administrators").exists()

    page.goto("/policies/delegations/new")
    page.get_by_label("Find an Okta group by name").fill("Sal")
    page.get_by_role("button", name="Add Sales").click()
    keep_for_readme(screenshot(page, "group-picker"), "group-picker")
    assert page.locator("#id_target_group_ids").input_value().startswith("00g")

    page.goto("/connections/")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_test_id("disable-okta").click()
    expect(page.get_by_test_id("disable-okta")).to_be_visible()
    assert asked and "Disable the Okta connection?" in asked[0]
    assert Connection.objects.get(system="okta").enabled


def test_the_person_page_shows_what_an_okta_admin_looks_for_first(
    page, sign_in, sandbox_connections, browser_delegation, screenshot
):
    sign_in(page, "helpdesk")
    find_and_open(page, "Ali", "Alice Anders")
    expect(page.get_by_test_id("last-sign-in")).to_contain_text("ago")
    expect(page.get_by_test_id("factors")).not_to_contain_text("None enrolled")
    expect(page.get_by_test_id("apps")).to_contain_text("Google Workspace")
    expect(page.get_by_test_id("manager")).not_to_have_text("—")
    expect(page.get_by_test_id("person-requests")).to_contain_text("None yet")
    keep_for_readme(screenshot(page, "user-view"), "user-view")


def test_polish_stacked_results_at_375px_aligned_cards_readable_charts_and_emails(
    new_page, sign_in, sandbox_connections, browser_delegation
):
    phone = new_page(375, 800)
    sign_in(phone, "helpdesk")
    phone.goto("/search/")
    phone.get_by_label("Name, email or login").fill("Anders")
    expect(phone.get_by_role("link", name="Alice Anders")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    status = phone.locator("#search-results td[data-label='Okta status']").first
    assert status.bounding_box()["x"] + status.bounding_box()["width"] <= 375

    wide = new_page()
    sign_in(wide, "helpdesk")
    find_and_open(wide, "Ali", "Alice Anders")
    wide.get_by_test_id("action-reset_sessions").click()
    wide.get_by_label("Reason").fill("Phone stolen (INC-1)")
    wide.get_by_test_id("submit-request").click()
    wide.wait_for_url(re.compile(r"/requests/\d+/$"))
    wide.goto("/")
    svg = wide.locator(".chart-svg").first
    expect(svg).to_be_visible()
    scale = svg.bounding_box()["width"] / 480
    assert 14 * scale >= 12, f"chart labels are {14 * scale:.1f} px"
    find_and_open(wide, "Ali", "Alice Anders")
    tops = [round(c.bounding_box()["y"]) for c in wide.locator(".user-grid > .card").all()[:3]]
    assert len(set(tops)) == 1, f"card tops at {tops}"
    login = wide.get_by_test_id("profile-login")
    assert login.evaluate("e => getComputedStyle(e).overflowWrap") != "anywhere"
    assert login.locator("wbr").count() >= 2
    wide.goto("/no/such/page/")
    expect(wide.get_by_role("heading", level=1)).to_have_text("Not found")


def test_one_vocabulary_the_systems_names_and_a_protected_person_told_once(
    page, sign_in, sandbox_connections, browser_delegation
):
    from connections import registry
    from offboarding.models import ProtectedGroup

    [admins] = registry.okta_search_groups(name="Administrators")
    ProtectedGroup.objects.create(okta_group_id=admins["id"], name="Administrators")
    sign_in(page, "helpdesk")
    find_and_open(page, "Grace Garcia", "Grace Garcia")
    main = page.locator("main")
    expect(page.get_by_test_id("protected")).to_have_count(1)
    expect(main).not_to_contain_text("Offboard would")
    expect(main).not_to_contain_text("not available")

    find_and_open(page, "Alice Anders", "Alice Anders")
    plan = page.get_by_test_id("preflight")
    for raw in ("ACTIVE", "enabled", "msgraph"):
        expect(plan).not_to_contain_text(raw)
    expect(plan).to_contain_text("Microsoft 365")
