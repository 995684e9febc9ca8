"""Issue 17 against the sandbox: the seed's Arazzo workflow imported, offered, asked for,
approved and run green; its export holds no configured secret."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from offboarding.models import ActionRequest, CustomPlaybookVersion, Delegation, StepRun
from tests.offboarding.arazzo_helpers import SEED, schema_problems, unresolved_operations

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

ALICE = "alice.anders@acme.example"


def _secret_values(credentials: dict) -> list[str]:
    values: list[str] = []
    for system in credentials.values():
        for key, value in system.items():
            if isinstance(value, str) and any(w in key for w in ("secret", "token", "key_pem")):
                values.append(value.strip().splitlines()[-2] if "PEM" in value else value)
    return [v for v in values if len(v) >= 12]


def test_the_seed_workflow_imported_runs_green_against_the_sandbox(
    flow, connected, request_log, capsys
):
    call_command("arazzo_import", str(SEED), "--name", "Okta: suspend, clear sessions")
    version = CustomPlaybookVersion.objects.get()
    Delegation.objects.update(allowed_actions=["offboard", version.kind])
    before = connected.person(ALICE)["okta"]
    assert before["status"] == "ACTIVE"

    req = flow.run(version.kind, ALICE, systems=("okta",), options={"oauth_tokens": True})

    assert req.state == ActionRequest.State.SUCCEEDED, req.state_note
    steps = flow.steps(req)
    assert set(steps) == {"okta.suspend", "okta.clear_sessions"}
    assert {s.status for s in steps.values()} == {StepRun.Status.SUCCEEDED}
    assert steps["okta.suspend"].finished_at <= steps["okta.clear_sessions"].started_at
    assert connected.person(ALICE)["okta"]["status"] == "SUSPENDED"
    calls = [(m, p) for _, _, m, p in request_log.of("okta") if m != "GET"]
    uid = before["id"]
    assert any(m == "POST" and p.endswith(f"/users/{uid}/lifecycle/suspend") for m, p in calls)
    assert any(m == "DELETE" and p.endswith(f"/users/{uid}/sessions") for m, p in calls)

    capsys.readouterr()
    call_command("arazzo_export", "--request", str(req.pk))
    exported = capsys.readouterr().out
    document = json.loads(exported)
    assert schema_problems(document) == [] and unresolved_operations(document) == []
    secrets = _secret_values(connected.credentials)
    assert len(secrets) >= 4  # Okta's API token and key, Zoom's and Graph's secrets and key
    for secret in secrets:
        assert secret not in exported


def test_the_offboard_exported_and_imported_again_runs_green_with_its_read_backs(
    flow, connected, tmp_path, capsys
):
    """Issue 17 follow-up: issue 13's steps and each system's read-back survive the round trip."""
    call_command("arazzo_export", "offboard")
    exported = tmp_path / "offboard.arazzo.json"
    exported.write_text(capsys.readouterr().out)
    call_command("arazzo_import", str(exported), "--name", "Offboard, again")
    version = CustomPlaybookVersion.objects.get()
    Delegation.objects.update(allowed_actions=["offboard", version.kind])

    req = flow.run(version.kind, ALICE, systems=("okta", "google"))

    assert req.state == ActionRequest.State.SUCCEEDED, req.state_note
    steps = flow.steps(req)
    assert {"okta.unassign_apps", "okta.lock_devices", "google.mobile_devices"} <= set(steps)
    assert {s.status for s in steps.values()} == {StepRun.Status.SUCCEEDED}
    for system in ("okta", "google"):
        verify = steps[f"{system}.verify"]
        others = [s for k, s in steps.items() if k.startswith(f"{system}.") and s is not verify]
        assert all(s.finished_at <= verify.started_at for s in others)
    assert steps["okta.verify"].options["deactivate_devices"] is True
    assert connected.person(ALICE)["okta"]["status"] == "SUSPENDED"
