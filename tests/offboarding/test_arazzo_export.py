"""Issue 17: every playbook, and one request's plan, as a valid Arazzo 1.0 document."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.management import call_command

from offboarding import playbooks
from offboarding.arazzo.export import playbook_document, request_document
from offboarding.models import AuditEvent
from tests.offboarding.arazzo_helpers import (
    SPECS,
    operation_ids,
    schema_problems,
    unresolved_operations,
)


def _steps(document: dict) -> dict[str, dict]:
    return {s["stepId"]: s for w in document["workflows"] for s in w["steps"]}


def _workflows(document: dict) -> dict[str, dict]:
    return {w["workflowId"]: w for w in document["workflows"]}


@pytest.mark.parametrize("kind", sorted(playbooks.PLAYBOOKS))
def test_every_built_in_playbook_exports_valid_arazzo_naming_real_operations(kind):
    document = playbook_document(kind)
    assert schema_problems(document) == []
    assert unresolved_operations(document) == []
    urls = {s["url"] for s in document["sourceDescriptions"]}
    assert all((SPECS / url).exists() for url in urls)


def test_the_google_source_is_an_openapi_description_derived_from_the_discovery_document():
    derived = json.loads((SPECS / "google-directory.openapi.json").read_text())
    assert derived["openapi"].startswith("3.")
    discovery = json.loads((SPECS / "google-directory.json").read_text())
    ids = {m["id"] for r in discovery["resources"].values() for m in r.get("methods", {}).values()}
    assert operation_ids("google-directory.openapi.json") <= ids
    assert {"directory.users.update", "directory.users.signOut"} <= operation_ids(
        "google-directory.openapi.json"
    )


def test_one_workflow_per_system_in_playbook_order_and_okta_deactivate_depends_on_the_rest():
    options = playbooks.normalise_options("offboard", {"okta_deactivate": True})
    document = request_document(
        kind="offboard",
        systems=list(playbooks.ALL_SYSTEMS),
        options=options,
        request_id=7,
        label="Offboard",
    )
    assert schema_problems(document) == [] and unresolved_operations(document) == []
    workflows = _workflows(document)
    okta = [s["stepId"] for s in workflows["offboard-okta"]["steps"]]
    assert okta[0] == "okta-suspend" and "okta-deactivate" not in okta
    assert okta[1:] == [
        "okta-clear-sessions",
        "okta-reset-factors",
        "okta-remove-from-groups",
        "okta-revoke-grants",
        "okta-unassign-apps",
        "okta-lock-devices",
        "okta-verify",
    ]
    last = workflows["offboard-okta-last"]
    assert [s["stepId"] for s in last["steps"]] == ["okta-deactivate"]
    assert set(last["dependsOn"]) == {
        "offboard-okta",
        "offboard-google",
        "offboard-msgraph",
        "offboard-zoom",
    }
    parent = workflows["offboard"]
    assert [s["workflowId"] for s in parent["steps"]][-1] == "offboard-okta-last"


def test_steps_take_the_persons_ids_from_inputs_and_carry_the_requests_options():
    options = playbooks.normalise_options("offboard", {"okta_forget_devices": True})
    document = request_document(
        kind="offboard", systems=["okta"], options=options, request_id=3, label="Offboard"
    )
    clear = _steps(document)["okta-clear-sessions"]
    assert clear["operationId"] == "$sourceDescriptions.okta.revokeUserSessions"
    params = {p["name"]: p["value"] for p in clear["parameters"]}
    assert params == {"userId": "$inputs.oktaUserId", "oauthTokens": True, "forgetDevices": True}
    google = _steps(playbook_document("offboard"))["google-suspend"]
    assert google["requestBody"]["payload"] == {"suspended": True}
    assert google["parameters"] == [
        {"name": "userKey", "in": "path", "value": "$inputs.googleUserKey"}
    ]


def test_success_criteria_accept_the_already_done_answers():
    steps = _steps(
        request_document(
            kind="offboard",
            systems=["okta"],
            options=playbooks.normalise_options("offboard", {"okta_deactivate": True}),
            request_id=1,
            label="Offboard",
        )
    )
    suspend = steps["okta-suspend"]["successCriteria"][0]["condition"]
    assert "$statusCode == 200" in suspend and "E0000001" in suspend
    assert "$statusCode == 404" in steps["okta-deactivate"]["successCriteria"][0]["condition"]


@pytest.mark.parametrize("kind", sorted(playbooks.PLAYBOOKS))
def test_an_export_leaves_authentication_out(kind):
    """No header, no cookie, no credential input: the runner that executes it authenticates.
    (The sandbox test checks that no configured secret's value appears either.)"""
    document = playbook_document(kind)
    for step in _steps(document).values():
        assert all(p.get("in") in (None, "path", "query") for p in step.get("parameters", []))
    for workflow in document["workflows"]:
        assert set(workflow["inputs"]["properties"]) <= {
            "oktaUserId",
            "googleUserKey",
            "microsoftUserId",
            "zoomUserId",
        }
    text = json.dumps(document)
    for word in ("Authorization", "SSWS", "Bearer", "securitySchemes", "client_secret"):
        assert word not in text


@pytest.mark.django_db
def test_the_export_command_prints_valid_arazzo_and_is_audited(capsys):
    call_command("arazzo_export", "reset_sessions")
    document = json.loads(capsys.readouterr().out)
    assert schema_problems(document) == []
    assert document["workflows"][0]["workflowId"] == "reset_sessions"
    call_command("arazzo_export", "offboard", "--systems", "okta,zoom", "--yaml")
    as_yaml = yaml.safe_load(capsys.readouterr().out)
    assert {s["name"] for s in as_yaml["sourceDescriptions"]} == {"okta", "zoom"}
    events = AuditEvent.objects.filter(action=AuditEvent.Action.PLAYBOOK_EXPORTED)
    assert events.count() == 2
    assert events.first().actor_label == "manage.py arazzo_export"


@pytest.mark.django_db
def test_the_export_command_refuses_an_unknown_kind():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No playbook"):
        call_command("arazzo_export", "nope")
