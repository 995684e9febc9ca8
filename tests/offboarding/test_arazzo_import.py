"""Issue 17: an Arazzo document imported as a custom playbook: mapped, cleaned, or refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from offboarding import playbooks
from offboarding.arazzo.export import playbook_document, preview_plan, request_document
from offboarding.arazzo.importer import import_document
from offboarding.arazzo.registry import playbook_from
from offboarding.exceptions import InvalidPlaybook
from tests.offboarding.arazzo_helpers import schema_problems, seed_text


def _plan(steps: list[playbooks.PlannedStep]) -> list[tuple[Any, ...]]:
    # The plan as a person sees it (render_plan): per system, its steps in order, what each waits
    # for and is told. Between systems only dependsOn orders them, so they are taken in one order.
    by_system = sorted(steps, key=lambda s: playbooks.ALL_SYSTEMS.index(s.system))
    return [
        (s.key, sorted(s.depends_on), s.options, s.after_all, s.after_system) for s in by_system
    ]


def _imported_plan(text: str, systems=playbooks.ALL_SYSTEMS, options=None) -> list[tuple]:
    imported = import_document(text)
    playbook = playbook_from(
        kind="pb_test_v1", label="t", steps=imported.steps_json(), options=imported.options
    )
    return _plan(playbooks.plan_steps(playbook, systems=systems, options=options))


def _seed() -> dict[str, Any]:
    return yaml.safe_load(seed_text())


def _with(document: dict[str, Any]) -> str:
    return json.dumps(document)


def test_the_seed_imports_as_suspend_then_clear_sessions():
    imported = import_document(seed_text())
    assert [(s.key, s.depends_on) for s in imported.steps] == [
        ("okta.suspend", []),
        ("okta.clear_sessions", ["okta.suspend"]),
    ]
    plan = preview_plan(steps=imported.steps_json(), options=imported.options)
    words = [(s["label"], s["after"]) for s in plan[0]["steps"]]
    assert words == [
        ("Suspend in Okta", "at once"),
        ("Clear Okta sessions", "after Suspend in Okta"),
    ]
    # The seed's oauthTokens input becomes a yes/no on the request form (Okta's default: no);
    # forgetDevices, which it leaves out, keeps Okta's default (yes).
    assert [(o["key"], o["default"]) for o in imported.options] == [("oauth_tokens", False)]
    clear = imported.steps[1]
    assert clear.option_map == [["oauth_tokens", "oauth_tokens"]]
    assert clear.fixed_options == [["forget_devices", True]]


def test_the_seeds_credentials_are_dropped_with_a_notice_and_not_kept():
    imported = import_document(seed_text())
    notices = " ".join(imported.notices)
    assert "“oktaApiToken” dropped" in notices
    assert "“suspendUser”: parameter “Authorization” dropped" in notices
    assert "“clearSessions”: parameter “Authorization” dropped" in notices
    assert "credentials always come from the portal's connections" in notices
    kept = json.dumps(imported.document)
    assert "oktaApiToken" not in kept and "Authorization" not in kept
    assert schema_problems(imported.document) == []


@pytest.mark.parametrize("kind", sorted(playbooks.PLAYBOOKS))
def test_exporting_a_playbook_and_importing_it_again_gives_the_same_plan(kind):
    original = _plan(playbooks.build_steps(kind, systems=playbooks.ALL_SYSTEMS, options=None))
    assert _imported_plan(json.dumps(playbook_document(kind))) == original


def test_a_requests_plan_with_its_options_round_trips_too():
    options = playbooks.normalise_options(
        "offboard",
        {"okta_deactivate": True, "okta_forget_devices": True, "google_sign_out": False},
    )
    systems = ["okta", "google", "zoom"]
    document = request_document(
        kind="offboard", systems=systems, options=options, request_id=9, label="Offboard"
    )
    original = _plan(playbooks.build_steps("offboard", systems=systems, options=options))
    assert _imported_plan(json.dumps(document), systems=systems) == original
    assert [s[0] for s in original if s[3]] == ["okta.deactivate"]


def test_an_alias_and_a_plain_operation_id_map_to_the_official_operation():
    document = _seed()
    step = document["workflows"][0]["steps"][1]
    assert step["operationId"] == "clearUserSessions"  # the seed's own name
    step["operationId"] = "revokeUserSessions"  # the Okta description's
    assert [s.key for s in import_document(_with(document)).steps][1] == "okta.clear_sessions"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["workflows"][0]["steps"][1].update(operationId="deleteUser"),
            "Step “clearSessions”: the portal's connectors cannot perform “deleteUser”",
        ),
        (
            lambda d: d["workflows"][0]["steps"][0]["parameters"][1].update(
                value="$steps.lookup.outputs.id"
            ),
            "Step “suspendUser”: unsupported expression $steps.lookup.outputs.id",
        ),
        (
            lambda d: d["workflows"][0]["steps"][0].update(
                onFailure=[{"name": "again", "type": "goto", "stepId": "clearSessions"}]
            ),
            "Step “suspendUser”: “goto” is not supported",
        ),
        (
            lambda d: d["workflows"][0]["steps"][1]["successCriteria"][0].update(
                condition="$steps.suspendUser.outputs.ok == true"
            ),
            "Step “clearSessions”: unsupported expression $steps.suspendUser.outputs.ok",
        ),
        (
            lambda d: d["workflows"][0]["steps"][0]["parameters"][1].update(value="00u123"),
            "Step “suspendUser”: parameter “id” must be the person's id",
        ),
        (
            lambda d: d["workflows"][0]["steps"].append(
                dict(d["workflows"][0]["steps"][0], stepId="again")
            ),
            "Step “again” repeats step “suspendUser”",
        ),
        (
            lambda d: d["sourceDescriptions"][0].update(name="payroll", url="payroll.yaml"),
            "Source “payroll” is not an API the portal connects to",
        ),
    ],
)
def test_what_the_portal_cannot_do_is_refused_naming_the_step(change, message):
    document = _seed()
    change(document)
    with pytest.raises(InvalidPlaybook) as refused:
        import_document(_with(document))
    assert message in refused.value.message


def test_a_cycle_between_workflows_is_refused_naming_them():
    document = json.loads(json.dumps(playbook_document("reset_sessions")))
    workflows = {w["workflowId"]: w for w in document["workflows"]}
    workflows["reset_sessions-okta"]["dependsOn"] = ["reset_sessions-google"]
    workflows["reset_sessions-google"]["dependsOn"] = ["reset_sessions-okta"]
    with pytest.raises(InvalidPlaybook, match="cycle") as refused:
        import_document(_with(document))
    assert "reset_sessions-okta" in refused.value.message
    assert "reset_sessions-google" in refused.value.message


def test_workflow_depends_on_orders_the_steps_of_one_system_after_another():
    document = json.loads(json.dumps(playbook_document("reset_sessions")))
    workflows = {w["workflowId"]: w for w in document["workflows"]}
    workflows["reset_sessions-zoom"]["dependsOn"] = ["reset_sessions-okta"]
    steps = {s.key: s for s in import_document(_with(document)).steps}
    assert steps["zoom.revoke_token"].depends_on == ["okta.clear_sessions"]
    assert steps["google.sign_out"].depends_on == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("arazzo: [unclosed", "not YAML or JSON"),
        ("- a\n- b\n", "not an Arazzo document"),
        (json.dumps({"arazzo": "1.0.1", "info": {"title": "x"}}), "Not a valid Arazzo 1.0"),
        ("x" * (300 * 1024), "too large"),
    ],
)
def test_a_document_that_is_not_arazzo_is_refused_in_words(text, message):
    with pytest.raises(InvalidPlaybook, match=message):
        import_document(text)
