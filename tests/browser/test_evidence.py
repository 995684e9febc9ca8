"""Issue 13 in Chromium: an auditor downloads a finished request's evidence pack from its page,
and the downloaded file passes `manage.py verify_evidence`; changed, it fails."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from playwright.sync_api import expect

from offboarding.audit import audit_record
from offboarding.models import ActionRequest, Approval, AuditEvent, StepAttempt, StepRun

pytestmark = pytest.mark.django_db(transaction=True)


def _finished_offboard(helpdesk, approver) -> ActionRequest:
    """A finished offboard as the runner leaves it: a step, its call, an approval, its events."""
    now = timezone.now()
    req = ActionRequest.objects.create(
        kind=ActionRequest.Kind.OFFBOARD,
        state=ActionRequest.State.SUCCEEDED,
        target_okta_id="00uEvidence1",
        target_login="pat.evidence@acme.example",
        target_name="Pat Evidence",
        systems=["okta"],
        reason="Left the company",
        requester=helpdesk,
        fingerprint="f" * 64,
        requested_at=now,
        approved_at=now,
        started_at=now,
        finished_at=now,
    )
    step = StepRun.objects.create(
        action_request=req,
        key="okta.suspend",
        system="okta",
        operation="suspend",
        label="Suspend in Okta",
        status=StepRun.Status.SUCCEEDED,
        outcome=StepRun.Outcome.DONE,
        attempts=1,
    )
    StepAttempt.objects.create(
        step=step,
        attempt_no=1,
        method="POST",
        path="/api/v1/users/00uEvidence1/lifecycle/suspend",
        status_code=200,
        duration_ms=41.0,
    )
    Approval.objects.create(
        action_request=req, approver=approver, decision="approved", fingerprint="f" * 64
    )
    audit_record(action=AuditEvent.Action.REQUEST_SUBMITTED, actor=helpdesk, obj=req)
    audit_record(action=AuditEvent.Action.REQUEST_APPROVED, actor=approver, obj=req)
    audit_record(action=AuditEvent.Action.STEP_OUTCOME, obj=step, details={"status": "succeeded"})
    audit_record(action=AuditEvent.Action.REQUEST_FINISHED, obj=req)
    return req


def test_an_auditor_downloads_the_evidence_pack_and_it_verifies(
    page, sign_in, auditor, helpdesk, approver, tmp_path, capsys
):
    req = _finished_offboard(helpdesk, approver)
    sign_in(page, auditor.username)
    page.goto(f"/requests/{req.pk}/")
    links = page.get_by_test_id("evidence-links")
    expect(links).to_be_visible()

    with page.expect_download() as caught:
        page.get_by_test_id("evidence-download").click()
    download = caught.value
    assert download.suggested_filename == f"evidence-request-{req.pk}.json"
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    document = json.loads(path.read_text())
    assert document["pack"]["request"]["id"] == req.pk
    assert [c["path"] for c in document["pack"]["calls"]] == [
        "/api/v1/users/00uEvidence1/lifecycle/suspend"
    ]
    call_command("verify_evidence", str(path))
    assert "evidence pack intact" in capsys.readouterr().out

    document["pack"]["approvals"][0]["approver"] = "someone-else"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("verify_evidence", str(path))
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.EVIDENCE_DOWNLOADED, actor_id=auditor.pk
    ).exists()

    # The printable form: the same facts, "none recorded" for the read-backs.
    page.get_by_test_id("evidence-page-link").click()
    expect(page.get_by_test_id("evidence-title")).to_contain_text("Pat Evidence")
    expect(page.get_by_test_id("evidence-verifications")).to_have_text("None recorded.")
    expect(page.get_by_test_id("evidence-calls")).to_contain_text("lifecycle/suspend")


def test_the_evidence_page_fits_375px(page, sign_in, auditor, helpdesk, approver):
    req = _finished_offboard(helpdesk, approver)
    sign_in(page, auditor.username)
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.goto(f"/requests/{req.pk}/evidence").status == 200
    assert "Evidence pack" in page.title()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the evidence page is {width}px wide at 375px"
