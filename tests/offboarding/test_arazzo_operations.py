"""Issue 17 follow-up: every step a playbook can run has its official call, read-backs included."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from connections.providers import all_providers
from offboarding import playbooks
from offboarding.arazzo.export import playbook_document, request_document
from offboarding.arazzo.importer import import_document
from offboarding.arazzo.operations import BY_KEY, SOURCES
from offboarding.arazzo.registry import playbook_from
from offboarding.exceptions import InvalidPlaybook
from tests.offboarding.arazzo_helpers import operation_ids, schema_problems


def _steps(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["stepId"]: s for w in document["workflows"] for s in w["steps"]}


def _every_operation() -> list[tuple[str, str]]:
    used = {(s.system, s.operation) for p in playbooks.PLAYBOOKS.values() for s in p.steps}
    offered = {(p.system.value, o.name) for p in all_providers() for o in p.operations}
    return sorted(used | offered)


@pytest.mark.parametrize(("system", "operation"), _every_operation())
def test_every_operation_a_playbook_or_provider_has_names_a_real_official_call(system, operation):
    rows = BY_KEY.get(f"{system}.{operation}")
    assert rows, f"no Arazzo alias row for {system}.{operation}"
    for row in rows:
        assert row.operation_id in operation_ids(SOURCES[system].url)
        assert row.success.startswith("$statusCode")
        # A note's list calls (what a multi-call step loops over) exist in the description too.
        for listed in re.findall(
            r"\b(?:list[A-Z]\w*|directory\.\w+\.list|user\.list\w+)", row.note
        ):
            assert listed in operation_ids(SOURCES[system].url), row.note


def test_steps_that_loop_over_a_list_say_so_in_their_note():
    looping = [r for rows in BY_KEY.values() for r in rows if "for each" in r.note.lower()]
    assert {r.key for r in looping} >= {
        "okta.remove_from_groups",
        "okta.unassign_apps",
        "okta.lock_devices",
        "google.revoke_oauth_tokens",
        "google.delete_app_passwords",
        "google.mobile_devices",
        "msgraph.disable_devices",
    }


def test_the_read_backs_export_as_a_get_of_the_person_with_what_the_portal_compares():
    steps = _steps(playbook_document("offboard"))
    reads = {
        "okta-verify": "$sourceDescriptions.okta.getUser",
        "google-verify": "$sourceDescriptions.googleDirectory.directory.users.get",
        "msgraph-verify": "$sourceDescriptions.microsoftGraph.user.get",
        "zoom-verify": "$sourceDescriptions.zoom.user",
    }
    for step_id, operation_id in reads.items():
        assert steps[step_id]["operationId"] == operation_id
        assert "compares the answer to what this system's steps" in steps[step_id]["description"]
        assert steps[step_id]["parameters"][0]["value"].startswith("$inputs.")
        assert "requestBody" not in steps[step_id]


def test_issue_13_steps_export_their_calls_and_already_done_answers():
    options = playbooks.normalise_options(
        "offboard", {"okta_deactivate_devices": False, "google_mobile_block_only": True}
    )
    document = request_document(
        kind="offboard", systems=["okta", "google"], options=options, request_id=4, label="Offboard"
    )
    assert schema_problems(document) == []
    steps = _steps(document)
    unassign = steps["okta-unassign-apps"]
    assert unassign["operationId"].endswith(".unassignUserFromApplication")
    assert "E0000046" in unassign["successCriteria"][0]["condition"]
    assert "listAppLinks" in unassign["description"]
    # The option decides the call: suspend only, and block instead of wipe.
    assert steps["okta-lock-devices"]["operationId"].endswith(".suspendDevice")
    assert steps["google-mobile-devices"]["requestBody"]["payload"] == {"action": "block"}
    codes = steps["google-invalidate-backup-codes"]
    assert codes["operationId"].endswith(".directory.verificationCodes.invalidate")
    defaults = _steps(playbook_document("offboard"))
    assert defaults["okta-lock-devices"]["operationId"].endswith(".deactivateDevice")
    assert defaults["google-mobile-devices"]["requestBody"]["payload"] == {
        "action": "admin_account_wipe"
    }
    assert defaults["msgraph-disable-devices"]["operationId"].endswith(".device.update")


def _plan(text: str, systems: list[str], options: dict[str, Any] | None = None) -> list[tuple]:
    imported = import_document(text)
    playbook = playbook_from(
        kind="pb_ops_v1", label="t", steps=imported.steps_json(), options=imported.options
    )
    return _as_plan(playbooks.plan_steps(playbook, systems=systems, options=options))


def _as_plan(steps: list[playbooks.PlannedStep]) -> list[tuple]:
    ordered = sorted(steps, key=lambda s: playbooks.ALL_SYSTEMS.index(s.system))
    return [(s.key, sorted(s.depends_on), s.options, s.after_all, s.after_system) for s in ordered]


def test_a_plan_with_the_other_device_choices_round_trips_with_its_read_backs():
    options = playbooks.normalise_options(
        "offboard", {"okta_deactivate_devices": False, "google_mobile_block_only": True}
    )
    systems = list(playbooks.ALL_SYSTEMS)
    document = request_document(
        kind="offboard", systems=systems, options=options, request_id=5, label="Offboard"
    )
    original = _as_plan(playbooks.build_steps("offboard", systems=systems, options=options))
    again = _plan(json.dumps(document), systems)
    assert again == original
    verify = {s[0]: s[2] for s in again if s[4]}
    assert verify["okta.verify"]["deactivate_devices"] is False
    assert verify["google.verify"]["block_only"] is True
    assert set(verify) == {f"{s}.verify" for s in systems}


def _reset_sessions_with_a_read_first() -> dict[str, Any]:
    document = json.loads(json.dumps(playbook_document("reset_sessions")))
    okta = next(w for w in document["workflows"] if w["workflowId"] == "reset_sessions-okta")
    read = next(s for s in okta["steps"] if s["stepId"] == "okta-verify")
    okta["steps"].remove(read)
    okta["steps"].insert(0, dict(read, stepId="look-up"))  # a read before the steps
    okta["steps"].append(dict(read, stepId="look-again"))  # and a second one after them
    return document


def test_an_imported_read_of_the_person_becomes_the_systems_read_back_with_a_notice():
    imported = import_document(json.dumps(_reset_sessions_with_a_read_first()))
    okta = [s for s in imported.steps if s.system == "okta"]
    assert [(s.key, s.after_system) for s in okta] == [
        ("okta.verify", True),
        ("okta.clear_sessions", False),
    ]
    # It does not hold the step written after it; the plan runs it after Okta's other steps.
    assert okta[1].depends_on == []
    planned = {
        s.key: s
        for s in playbooks.plan_steps(
            playbook_from(kind="pb_r_v1", label="t", steps=imported.steps_json(), options=[]),
            systems=playbooks.ALL_SYSTEMS,
            options=None,
        )
    }
    assert planned["okta.verify"].depends_on == ("okta.clear_sessions",)
    assert planned["okta.verify"].options == {"clear_sessions": True}
    notices = " ".join(imported.notices)
    assert "Step “look-up”: the read “getUser” becomes Okta's read-back" in notices
    assert "Step “look-again”: “getUser” folded into Okta's read-back" in notices


def test_a_read_of_a_system_the_document_does_not_name_is_still_refused():
    document = json.loads(json.dumps(playbook_document("reset_sessions")))
    okta = next(w for w in document["workflows"] if w["workflowId"] == "reset_sessions-okta")
    okta["steps"][-1]["operationId"] = "$sourceDescriptions.okta.listUserGroups"
    with pytest.raises(InvalidPlaybook, match="cannot perform “listUserGroups”"):
        import_document(json.dumps(document))


def test_a_read_with_nothing_to_read_back_is_dropped_and_reads_alone_are_refused():
    document = json.loads(json.dumps(playbook_document("reset_sessions")))
    zoom = next(w for w in document["workflows"] if w["workflowId"] == "reset_sessions-zoom")
    zoom["steps"] = [s for s in zoom["steps"] if s["stepId"] == "zoom-verify"]
    imported = import_document(json.dumps(document))
    assert "zoom.verify" not in {s.key for s in imported.steps}
    assert "okta.verify" in {s.key for s in imported.steps}
    assert "Step “zoom-verify”: read dropped: no other Zoom step" in " ".join(imported.notices)
    for workflow in document["workflows"]:
        workflow["steps"] = [
            s for s in workflow["steps"] if "workflowId" in s or s["stepId"].endswith("-verify")
        ]
    with pytest.raises(InvalidPlaybook, match="no step the portal can perform"):
        import_document(json.dumps(document))
