"""Refusals a real tenant gives: a privileged Entra person (warned, then one failed step in words), a scope taken from the Okta app."""

from __future__ import annotations

import httpx
import pytest

from connections import registry
from offboarding.models import StepRun
from offboarding.services import preflight_plan, target_lookup

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

KIM = "kim.kowalski@acme.example"  # Entra Global Administrator


def test_the_preflight_warns_about_a_privileged_microsoft_person(connected):
    okta_id = registry.okta_get_user(KIM)["id"]
    target = target_lookup(okta_id).as_target()
    plan = preflight_plan(kind="offboard", systems=["msgraph"], options={}, target=target)
    (graph,) = plan
    assert "Global Administrator" in graph["warning"]
    assert "Privileged Authentication Administrator" in graph["warning"]


def test_disabling_a_privileged_person_fails_once_in_words_without_retrying(flow, connected):
    req = flow.started("offboard", KIM, systems=["msgraph"])
    flow.queue.drain()
    disable = flow.steps(req)["msgraph.disable"]
    assert disable.status == StepRun.Status.FAILED and disable.attempts == 1
    assert disable.next_attempt_at is None
    assert disable.last_error.startswith("Microsoft 365: Insufficient privileges")
    assert "Authorization_RequestDenied" in disable.last_error
    patches = [
        e for e in connected.effects("graph") if e["method"] == "PATCH" and "/users/" in e["path"]
    ]
    assert [(e["status"], e["applied"]) for e in patches] == [(403, False)]
    assert connected.person(KIM)["graph"]["accountEnabled"] is True


def test_with_a_privileged_role_on_the_app_the_same_person_is_disabled(flow, connected):
    httpx.put(
        connected.url("control", "/apps/graph"),
        json={"directory_role": "Privileged Authentication Administrator"},
    )
    req = flow.started("offboard", KIM, systems=["msgraph"])
    flow.queue.drain()
    assert flow.steps(req)["msgraph.disable"].status == StepRun.Status.SUCCEEDED
    assert connected.person(KIM)["graph"]["accountEnabled"] is False


def test_a_scope_taken_from_the_okta_app_fails_the_step_once_in_words(flow, connected):
    req = flow.started("offboard", "alice.anders@acme.example", systems=["okta"])
    connected.set_app("okta", scopes=["okta.users.read"])  # an admin removed the grants
    httpx.post(connected.url("control", "/tokens/expire"))
    flow.queue.drain()
    suspend = flow.steps(req)["okta.suspend"]
    assert suspend.status == StepRun.Status.FAILED and suspend.attempts == 1
    assert suspend.next_attempt_at is None
    assert "not granted to the service app" in suspend.last_error
    assert "invalid_scope" in suspend.last_error
    assert connected.person("alice.anders@acme.example")["okta"]["status"] == "ACTIVE"
