"""The pre-flight plan reads live accounts and warns before a step that the system will refuse."""

from __future__ import annotations

import pytest

from connections import registry
from offboarding.services import preflight_plan, target_lookup

pytestmark = pytest.mark.django_db

SYSTEMS = ["okta", "google", "zoom", "msgraph"]


def _plan(email: str) -> dict[str, dict]:
    okta_id = registry.okta_get_user(email)["id"]
    target = target_lookup(okta_id).as_target()
    plan = preflight_plan(kind="offboard", systems=SYSTEMS, options={}, target=target)
    return {item["system"]: item for item in plan}


def test_an_ordinary_person_gets_a_plan_without_warnings(connected):
    plan = _plan("alice.anders@acme.example")
    assert all(item["exists"] for item in plan.values())
    assert not any(item.get("warning") for item in plan.values())
    assert "will suspend in Okta" in plan["okta"]["summary"]


def test_a_locked_out_okta_user_is_warned_about_before_submitting(connected):
    plan = _plan("ivy.irwin@acme.example")
    assert plan["okta"]["state"] == "LOCKED_OUT"
    assert plan["okta"]["warning"].startswith("Okta cannot suspend: the account is LOCKED_OUT")
    assert "Deactivate the account in Okta" in plan["okta"]["warning"]


def test_a_hybrid_microsoft_user_is_flagged(connected):
    plan = _plan("dan.dalton@acme.example")
    assert "on-premises" in plan["msgraph"]["warning"]


def test_a_staged_okta_user_counts_as_already_locked(connected):
    plan = _plan("henry.hughes@acme.example")
    assert plan["okta"]["locked_out"] is True and "already locked" in plan["okta"]["summary"]
