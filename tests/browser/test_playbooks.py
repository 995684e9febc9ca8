"""Issue 17 in a real browser: a Connection admin uploads the seed's Arazzo workflow, reads the
plan in words and what was dropped, saves it, and finds it listed with its download."""

from __future__ import annotations

import pytest

from offboarding.models import CustomPlaybookVersion
from tests.offboarding.arazzo_helpers import SEED

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_connection_admin_imports_the_seed_after_reading_its_plan(
    page, sign_in, connection_admin
):
    sign_in(page, connection_admin.username)
    page.get_by_role("link", name="Playbooks").click()
    page.get_by_label("Name").fill("Okta: suspend, clear sessions")
    page.get_by_label("…or a file").set_input_files(str(SEED))
    page.get_by_role("button", name="Show the plan").click()
    preview = page.get_by_test_id("import-preview")
    preview.wait_for()
    assert "Suspend in Okta" in preview.inner_text()
    assert "after Suspend in Okta" in preview.inner_text()
    assert "“oktaApiToken” dropped" in page.get_by_test_id("import-notices").inner_text()
    assert not CustomPlaybookVersion.objects.exists()
    page.get_by_role("button", name="Save as a custom playbook").click()
    page.get_by_role("heading", name="Custom playbooks").wait_for()
    assert "Okta: suspend, clear sessions (v1)" in page.content()
    assert page.get_by_role("link", name="Download v1").is_visible()
    version = CustomPlaybookVersion.objects.get()
    assert [s["operation"] for s in version.steps] == ["suspend", "clear_sessions"]
