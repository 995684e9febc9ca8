"""Issue 13 against the sandbox: a real offboard, then the reinstate that undoes it; its evidence."""

from __future__ import annotations

import json

import httpx
import pytest
from django.core.management import call_command

from connections import registry
from connections.types import Outcome, System, Target
from offboarding import services
from offboarding.evidence import evidence_problems
from offboarding.models import ActionRequest, StepRun

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

ALICE = "alice.anders@acme.example"
S = StepRun.Status


def _okta_groups(person: dict) -> set[str]:
    return set(person["okta"]["groups"])


def test_reinstate_puts_back_the_groups_and_accounts_the_offboard_removed(flow, connected):
    before = connected.person(ALICE)
    offboard = flow.run("offboard", ALICE)
    assert offboard.state == ActionRequest.State.SUCCEEDED, offboard.state_note
    removed = flow.steps(offboard)["okta.remove_from_groups"].result["removed_group_ids"]
    assert removed  # the step says which memberships it ended
    locked = connected.person(ALICE)
    assert locked["okta"]["status"] == "SUSPENDED" and locked["google"]["suspended"]
    assert _okta_groups(locked) < _okta_groups(before)

    reinstate = flow.run("reinstate", ALICE)
    assert reinstate.state == ActionRequest.State.SUCCEEDED, reinstate.state_note
    assert reinstate.undoes_id == offboard.pk
    steps = flow.steps(reinstate)
    assert steps["okta.restore_groups"].options["group_ids"] == removed
    assert steps["okta.restore_groups"].outcome == StepRun.Outcome.DONE
    assert sorted(steps["okta.restore_groups"].result["added_group_ids"]) == sorted(removed)
    after = connected.person(ALICE)
    assert after["okta"]["status"] == "ACTIVE"
    assert _okta_groups(after) == _okta_groups(before)
    assert not after["google"]["suspended"]
    assert after["zoom"]["status"] == before["zoom"]["status"]
    assert after["graph"]["accountEnabled"] is True
    okta_plan = next(p for p in reinstate.plan if p["system"] == "okta")
    notes = " ".join(okta_plan["notes"])
    assert f"request #{offboard.pk} suspended" in notes and "group membership" in notes
    assert "Cannot restore: Okta authenticators were reset" in notes


def test_the_okta_restore_apps_operation_assigns_apps_again_in_the_sandbox(connected):
    person = connected.person(ALICE)["okta"]
    uid = person["id"]
    okta = httpx.Client(
        base_url=connected.url("okta"), headers=connected.headers("okta"), timeout=5
    )
    with okta:
        app_ids = [a["appInstanceId"] for a in okta.get(f"/users/{uid}/appLinks").json()][:2]
        for app_id in app_ids:
            assert okta.delete(f"/apps/{app_id}/users/{uid}").status_code == 204
        target = Target(okta_id=uid, login=ALICE, email=ALICE)
        result = registry.run_operation(
            System.OKTA, "restore_apps", target=target, options={"app_ids": app_ids}
        )
        assert result.outcome == Outcome.DONE and result.data["assigned_app_ids"] == app_ids
        links = {a["appInstanceId"] for a in okta.get(f"/users/{uid}/appLinks").json()}
    assert set(app_ids) <= links
    nothing = registry.run_operation(System.OKTA, "restore_apps", target=target, options={})
    assert nothing.outcome == Outcome.ALREADY_DONE


def test_reinstate_says_a_deactivated_okta_user_cannot_be_brought_back(flow, connected):
    offboard = flow.run("offboard", ALICE, options={"okta_deactivate": True})
    assert connected.person(ALICE)["okta"]["status"] == "DEPROVISIONED"
    reinstate = flow.run("reinstate", ALICE)
    steps = flow.steps(reinstate)
    assert steps["okta.unsuspend"].status == S.FAILED
    assert "deactivated" in steps["okta.unsuspend"].last_error
    # A failed step does not hold back those behind it (as in an offboard): Okta keeps a
    # deactivated user's group memberships, so they are back when an admin reactivates the user.
    assert steps["okta.restore_groups"].status == S.SUCCEEDED
    assert reinstate.state == ActionRequest.State.PARTIALLY_FAILED
    okta_plan = next(p for p in reinstate.plan if p["system"] == "okta")
    assert any("was deactivated" in n for n in okta_plan["notes"]), okta_plan["notes"]
    assert reinstate.undoes_id == offboard.pk
    assert not connected.person(ALICE)["google"]["suspended"]  # the others still came back


def test_the_evidence_pack_of_a_real_offboard_lists_its_calls_and_verifies(
    flow, connected, auditor, tmp_path, capsys
):
    offboard = flow.run("offboard", ALICE)
    document = services.evidence_pack_download(actor=auditor, action_request=offboard, form="json")
    calls = document["pack"]["calls"]
    assert any(c["method"] == "POST" and c["path"].endswith("/lifecycle/suspend") for c in calls)
    assert all(c["status"] for c in calls)
    assert evidence_problems(document) == []
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document))
    call_command("verify_evidence", str(path))
    assert "evidence pack intact" in capsys.readouterr().out


def test_a_group_deleted_since_is_reported_and_the_others_still_come_back(flow, connected):
    offboard = flow.run("offboard", ALICE)
    removed = flow.steps(offboard)["okta.remove_from_groups"].result["removed_group_ids"]
    target = Target(okta_id=connected.person(ALICE)["okta"]["id"], login=ALICE, email=ALICE)
    result = registry.run_operation(
        System.OKTA,
        "restore_groups",
        target=target,
        options={"group_ids": ["00gDeletedSince", *removed]},
    )
    assert result.outcome == Outcome.DONE
    assert result.data == {"added_group_ids": removed, "not_found_ids": ["00gDeletedSince"]}
    assert "1 no longer exist in Okta: 00gDeletedSince" in result.detail
