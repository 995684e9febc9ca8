"""Issue 13: the evidence pack of a finished request (page, signed JSON, offline check, audit)."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from offboarding import services
from offboarding.evidence import evidence_problems
from offboarding.exceptions import InvalidTransition, NotAllowed
from offboarding.models import ActionRequest, AuditEvent, SystemVerification
from tests.offboarding.test_views import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(approved, queue):
    """An offboard carried out against the fake registry, finished."""
    req = approved("offboard")
    queue.drain()
    req.refresh_from_db()
    assert req.is_final, req.state
    return req


def _download(client, user, req):
    response = sign_in(client, user).get(
        reverse("offboarding:request-evidence-json", kwargs={"pk": req.pk})
    )
    assert response.status_code == 200, response.status_code
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(response.content)


def test_the_pack_holds_plan_approvals_calls_verifications_and_chained_events(
    client, finished, auditor, approver
):
    document = _download(client, auditor, finished)
    pack = document["pack"]
    assert pack["request"]["id"] == finished.pk and pack["request"]["state"] == finished.state
    assert {s["key"] for s in pack["steps"]} >= {
        "okta.suspend",
        "google.suspend",
        "zoom.deactivate",
    }
    assert [a["approver"] for a in pack["approvals"]] == [approver.username]
    assert pack["approvals"][0]["for_the_approved_version"] is True
    # each system's read-back after its steps (issue 13), one per system
    assert sorted(v["system"] for v in pack["verifications"]) == sorted(finished.systems)
    actions = [e["action"] for e in pack["audit_events"]]
    assert actions[0] == AuditEvent.Action.REQUEST_SUBMITTED
    assert (
        AuditEvent.Action.REQUEST_APPROVED in actions and AuditEvent.Action.STEP_OUTCOME in actions
    )
    assert AuditEvent.Action.REQUEST_FINISHED in actions
    seqs = [e["seq"] for e in pack["audit_events"]]
    assert seqs == sorted(seqs) and all(len(e["hash"]) == 64 for e in pack["audit_events"])
    assert evidence_problems(document) == []


def test_every_call_made_is_listed_from_the_attempt_rows(client, finished, auditor, fake_registry):
    from offboarding.models import StepAttempt

    StepAttempt.objects.create(
        step=finished.steps.get(key="okta.suspend"),
        attempt_no=1,
        method="POST",
        path="/api/v1/users/00u1/lifecycle/suspend",
        status_code=200,
        duration_ms=12.5,
    )
    calls = _download(client, auditor, finished)["pack"]["calls"]
    assert {
        "step": "okta.suspend",
        "attempt": 1,
        "method": "POST",
        "path": "/api/v1/users/00u1/lifecycle/suspend",
        "status": 200,
    }.items() <= calls[-1].items()


def test_verification_read_backs_are_included(client, finished, auditor):
    SystemVerification.objects.filter(action_request=finished).delete()
    SystemVerification.objects.create(
        action_request=finished,
        system="okta",
        verdict=SystemVerification.Verdict.VERIFIED,
        summary="Okta shows SUSPENDED, 0 sessions",
        observed={"status": "SUSPENDED"},
    )
    pack = _download(client, auditor, finished)["pack"]
    assert pack["verifications"][0]["summary"] == "Okta shows SUSPENDED, 0 sessions"
    page = sign_in(client, auditor).get(
        reverse("offboarding:request-evidence", kwargs={"pk": finished.pk})
    )
    assert "Okta shows SUSPENDED, 0 sessions" in page.content.decode()


def test_the_printable_page_says_none_recorded_without_verifications(client, finished, helpdesk):
    SystemVerification.objects.filter(action_request=finished).delete()
    page = sign_in(client, helpdesk).get(
        reverse("offboarding:request-evidence", kwargs={"pk": finished.pk})
    )
    body = page.content.decode()
    assert page.status_code == 200 and "None recorded." in body
    assert finished.target_login in body and "request_submitted" in body


def test_downloading_is_audited_and_the_next_pack_lists_the_earlier_download(
    client, finished, auditor
):
    first = _download(client, auditor, finished)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EVIDENCE_DOWNLOADED).get()
    assert event.actor == auditor and event.object_id == str(finished.pk)
    assert event.details["form"] == "json"
    assert AuditEvent.Action.EVIDENCE_DOWNLOADED not in [
        e["action"] for e in first["pack"]["audit_events"]
    ]
    second = _download(client, auditor, finished)
    assert AuditEvent.Action.EVIDENCE_DOWNLOADED in [
        e["action"] for e in second["pack"]["audit_events"]
    ]
    assert evidence_problems(second) == []


def test_who_may_download(
    client, finished, helpdesk, approver, auditor, connection_admin, outsider
):
    url = reverse("offboarding:request-evidence-json", kwargs={"pk": finished.pk})
    for user in (helpdesk, approver, auditor):  # requester, its approver group, auditors
        assert sign_in(client, user).get(url).status_code == 200, user.username
    for user in (connection_admin, outsider):  # may not see the request: no such page
        assert sign_in(client, user).get(url).status_code in (403, 404), user.username
    downloads = AuditEvent.objects.filter(action=AuditEvent.Action.EVIDENCE_DOWNLOADED)
    assert downloads.count() == 3


def test_an_unfinished_request_has_no_pack_yet(client, make_request, helpdesk, auditor):
    req = make_request("offboard")
    assert req.state == ActionRequest.State.PENDING_APPROVAL
    url = reverse("offboarding:request-evidence-json", kwargs={"pk": req.pk})
    assert sign_in(client, auditor).get(url).status_code == 403
    with pytest.raises(InvalidTransition):
        services.evidence_pack_download(actor=helpdesk, action_request=req, form="json")
    detail = sign_in(client, helpdesk).get(
        reverse("offboarding:request-detail", kwargs={"pk": req.pk})
    )
    assert 'data-testid="evidence-links"' not in detail.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EVIDENCE_DOWNLOADED).exists()


def test_the_service_refuses_someone_who_may_not_see_the_request(finished, connection_admin):
    with pytest.raises(NotAllowed):
        services.evidence_pack_download(
            actor=connection_admin, action_request=finished, form="page"
        )


def test_the_finished_request_page_links_the_pack(client, finished, helpdesk):
    detail = sign_in(client, helpdesk).get(
        reverse("offboarding:request-detail", kwargs={"pk": finished.pk})
    )
    assert 'data-testid="evidence-download"' in detail.content.decode()


def test_no_secret_is_in_the_pack(client, finished, auditor, settings):
    body = json.dumps(_download(client, auditor, finished))
    assert settings.PORTAL_AUDIT_KEY not in body and settings.SECRET_KEY not in body


# --- verify_evidence: offline check -----------------------------------------------------------


@pytest.fixture
def evidence_file(client, finished, auditor, tmp_path):
    document = _download(client, auditor, finished)

    def write(doc=document):
        path = tmp_path / "evidence.json"
        path.write_text(json.dumps(doc))
        return str(path)

    write.document = document  # type: ignore[attr-defined]
    return write


def test_verify_evidence_accepts_the_file_as_downloaded(evidence_file, capsys):
    call_command("verify_evidence", evidence_file())
    assert "evidence pack intact" in capsys.readouterr().out


def _fails(path: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_evidence", path)
    assert caught.value.returncode == 1
    return str(caught.value)


def test_verify_evidence_refuses_a_changed_step(evidence_file):
    doc = copy.deepcopy(evidence_file.document)
    doc["pack"]["steps"][0]["status"] = "failed"
    assert "signature does not match" in _fails(evidence_file(doc))


def test_verify_evidence_refuses_a_removed_audit_event(evidence_file):
    doc = copy.deepcopy(evidence_file.document)
    del doc["pack"]["audit_events"][1]
    assert "signature does not match" in _fails(evidence_file(doc))


def test_verify_evidence_checks_each_event_hmac_and_link_even_when_re_signed(evidence_file):
    """Someone without the audit key cannot re-sign; with it, a forged event still shows."""
    from offboarding.evidence import evidence_document

    doc = copy.deepcopy(evidence_file.document)
    events = doc["pack"]["audit_events"]
    events[0]["details"]["reason"] = "something else"
    resigned = evidence_document(doc["pack"])
    message = _fails(evidence_file(resigned))
    assert "audit event 1" in message and "HMAC does not match" in message
    doc = copy.deepcopy(evidence_file.document)
    neighbours = next(
        i
        for i in range(1, len(doc["pack"]["audit_events"]))
        if doc["pack"]["audit_events"][i]["seq"] == doc["pack"]["audit_events"][i - 1]["seq"] + 1
    )
    doc["pack"]["audit_events"][neighbours]["prev_hash"] = "0" * 64
    message = _fails(evidence_file(evidence_document(doc["pack"])))
    assert "does not link to the event before it" in message


def test_verify_evidence_refuses_another_audit_key(evidence_file, settings):
    path = evidence_file()
    settings.PORTAL_AUDIT_KEY = "another-audit-key-" + "z" * 32
    assert "signature does not match" in _fails(path)


def test_verify_evidence_says_when_the_file_is_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(CommandError) as caught:
        call_command("verify_evidence", str(path))
    assert caught.value.returncode == 2


def test_verify_evidence_says_which_event_is_malformed(evidence_file):
    from offboarding.evidence import evidence_document

    doc = copy.deepcopy(evidence_file.document)
    del doc["pack"]["audit_events"][0]["hash"]
    doc["pack"]["audit_events"][1]["seq"] = "seven"
    doc["pack"]["audit_events"][2]["hash"] = "é" * 64  # not even ASCII
    message = _fails(evidence_file(evidence_document(doc["pack"])))
    assert "audit event 1" in message and "audit event 2" in message and "malformed" in message
    assert "audit event 3" in message and "HMAC does not match" in message


def test_the_printable_page_draws_the_run_on_one_time_axis(client, finished, auditor):
    """Issue 16 item 12: the compact timeline is part of the evidence of a finished request."""
    page = sign_in(client, auditor).get(
        reverse("offboarding:request-evidence", kwargs={"pk": finished.pk})
    )
    body = page.content.decode()
    assert 'data-testid="run-timeline"' in body and 'data-testid="run-timeline-table"' in body
