"""Issue 13: each system's read-back, as the runner stores it and the pages show and filter it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from offboarding import services as svc
from offboarding.models import ActionRequest, AuditEvent, StepRun, SystemVerification
from tests.offboarding.conftest import Fault

pytestmark = pytest.mark.django_db

S = StepRun.Status
RS = ActionRequest.State
V = SystemVerification.Verdict
HISTORY = reverse("offboarding:request-list")


def run(queue, req):
    queue.drain()
    req.refresh_from_db()
    return req


def _forbidden(system: str):
    from connections.types import ConnectorError

    return Fault(ConnectorError(f"{system}: forbidden", status=403))


def test_each_system_is_read_back_once_and_audited(approved, queue, fake_registry):
    req = run(queue, approved("offboard", systems=["okta", "zoom"]))
    assert req.state == RS.SUCCEEDED
    rows = SystemVerification.objects.filter(action_request=req)
    assert {(r.system, r.verdict) for r in rows} == {("okta", V.VERIFIED), ("zoom", V.VERIFIED)}
    event = AuditEvent.objects.get(action=AuditEvent.Action.SYSTEM_VERIFIED, details__system="okta")
    assert event.details["verdict"] == V.VERIFIED and event.target == req.target_login


def test_a_contradiction_fails_the_read_back_and_the_request(approved, queue, fake_registry, steps):
    fake_registry.fail("zoom", "deactivate", _forbidden("zoom"))
    req = run(queue, approved("offboard", systems=["okta", "zoom"]))
    assert req.state == RS.PARTIALLY_FAILED
    verify = steps(req)["zoom.verify"]
    assert verify.status == S.FAILED and verify.last_error.startswith("Not verified: zoom shows")
    row = SystemVerification.objects.get(action_request=req, system="zoom")
    assert row.verdict == V.NOT_VERIFIED and row.observed["locked_out"] is False


def test_nothing_to_prove_when_every_step_of_a_system_failed(approved, queue, fake_registry, steps):
    fake_registry.fail("zoom", "revoke_token", _forbidden("zoom"))
    req = run(queue, approved("reset_sessions", systems=["zoom"]))
    assert req.state == RS.FAILED
    assert steps(req)["zoom.verify"].status == S.CANCELLED
    assert not SystemVerification.objects.filter(action_request=req).exists()


def test_a_person_without_the_account_has_nothing_to_verify(approved, queue, fake_registry, steps):
    del fake_registry.accounts[("zoom", "00u1")]
    req = run(queue, approved("offboard", systems=["zoom"]))
    assert steps(req)["zoom.verify"].status == S.SKIPPED
    assert not SystemVerification.objects.filter(action_request=req).exists()


def test_a_read_back_that_fails_is_recorded_as_unavailable(approved, queue, fake_registry):
    fake_registry.fail("zoom", "verify", _forbidden("zoom"))
    req = run(queue, approved("offboard", systems=["zoom"]))
    row = SystemVerification.objects.get(action_request=req, system="zoom")
    assert row.verdict == V.UNAVAILABLE and "zoom: forbidden" in row.summary
    assert req.state == RS.PARTIALLY_FAILED


def test_retrying_a_system_reads_it_back_again_after_its_steps(
    approved, queue, fake_registry, steps, helpdesk
):
    fake_registry.fail("zoom", "deactivate", _forbidden("zoom"))
    req = run(queue, approved("offboard", systems=["zoom"]))
    assert SystemVerification.objects.get(system="zoom").verdict == V.NOT_VERIFIED
    with queue.capture(execute=True):
        ready = svc.action_request_retry_system(
            action_request_id=req.pk, actor=helpdesk, system="zoom"
        )
    assert ready == [steps(req)["zoom.deactivate"].pk]  # the read-back waits for it
    assert steps(req)["zoom.verify"].status == S.WAITING
    req = run(queue, req)
    assert req.state == RS.SUCCEEDED
    assert SystemVerification.objects.get(system="zoom").verdict == V.VERIFIED


def test_the_status_page_shows_each_verdict_and_what_was_read(
    approved, queue, fake_registry, client, helpdesk
):
    fake_registry.fail("zoom", "deactivate", _forbidden("zoom"))
    req = run(queue, approved("offboard", systems=["okta", "zoom"]))
    client.force_login(helpdesk)
    page = client.get(reverse("offboarding:request-detail", kwargs={"pk": req.pk}))
    html = page.content.decode()
    assert 'data-testid="verification-okta" data-verdict="verified"' in html
    assert 'data-testid="verification-zoom" data-verdict="not_verified"' in html
    assert "zoom shows the account ACTIVE" in html
    assert "<dt>locked out</dt><dd>no</dd>" in html  # what was read, in words
    live = client.get(reverse("offboarding:request-live", kwargs={"pk": req.pk}))
    assert 'data-testid="verification-zoom"' in live.content.decode()


def test_history_filters_on_the_read_back(approved, queue, fake_registry, client, auditor):
    good = run(queue, approved("offboard", systems=["okta", "zoom"]))
    fake_registry.add_user("00u2", "sam.other@example.com")
    fake_registry.fail("zoom", "deactivate", _forbidden("zoom"))
    bad = run(queue, approved("offboard", systems=["okta", "zoom"], okta_id="00u2"))
    client.force_login(auditor)

    def found(**params) -> set[int]:
        response = client.get(HISTORY, params)
        assert response.status_code == 200
        return {r.pk for r in response.context["rows"]}

    assert found(verification="verified") == {good.pk}
    assert found(verification="not_verified") == {bad.pk}
    assert found(verification="not_verified", system="okta") == set()
    assert found(verification="verified", system="okta") == {good.pk, bad.pk}
    assert found(verification="none") == set()
    assert client.get(HISTORY, {"verification": "maybe"}).status_code == 400
