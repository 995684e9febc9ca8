"""Offboarding Okta users who are not ACTIVE: Okta suspends only ACTIVE users, so each other
status gets an honest outcome in words (CONTRACTS.md, suspendUser; docs/RUNNER.md).
"""

from __future__ import annotations

import pytest

from offboarding.models import ActionRequest, StepRun

pytestmark = [pytest.mark.django_db, pytest.mark.sandbox]

S = StepRun.Status
HENRY = "henry.hughes@acme.example"  # STAGED
IVY = "ivy.irwin@acme.example"  # LOCKED_OUT
ALICE = "alice.anders@acme.example"


def _set_okta_status(sandbox, email: str, status: str) -> None:
    """Statuses the sandbox's seed does not hand out (PROVISIONED, RECOVERY, PASSWORD_EXPIRED)."""
    with sandbox.state.lock:
        sandbox.state.person(sandbox.org.find(email)).okta_status = status


def _suspend_calls(sandbox) -> list[dict]:
    return [
        e
        for e in sandbox.effects("okta")
        if e["path"].endswith("/lifecycle/suspend") and "/users/" in e["path"]
    ]


def test_staged_user_cannot_sign_in_so_suspend_is_already_done(flow, connected):
    req = flow.run("offboard", HENRY)
    suspend = flow.steps(req)["okta.suspend"]
    assert (suspend.status, suspend.outcome) == (S.SUCCEEDED, StepRun.Outcome.ALREADY_DONE)
    assert "STAGED (never activated), so the person cannot sign in" in suspend.detail
    # Sent once, as for anyone: Okta refuses it (E0000001), and only then is the status read.
    assert [(e["status"], e["applied"]) for e in _suspend_calls(connected)] == [(400, False)]
    assert connected.person(HENRY)["okta"]["status"] == "STAGED"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("PROVISIONED", "can still activate it from the activation email"),
        ("LOCKED_OUT", "Okta refuses to suspend a locked-out user"),
        ("RECOVERY", "can finish the reset from the recovery link"),
        ("PASSWORD_EXPIRED", "can still sign in with the old password"),
    ],
)
def test_a_user_who_could_still_get_in_fails_in_words_recommending_deactivation(
    flow, connected, status, words
):
    email = IVY if status == "LOCKED_OUT" else ALICE
    if status != "LOCKED_OUT":
        _set_okta_status(connected, email, status)
    req = flow.run("offboard", email)
    steps = flow.steps(req)
    suspend = steps["okta.suspend"]
    assert suspend.status == S.FAILED and suspend.attempts == 1  # permanent: not retried
    assert suspend.last_error.startswith("Okta: not suspended: ")
    assert words in suspend.last_error and "Deactivate the account in Okta" in suspend.last_error
    assert [(e["status"], e["applied"]) for e in _suspend_calls(connected)] == [(400, False)]
    # The other systems are locked all the same, and Okta's sessions are still cleared; the
    # read-back says in words that Okta did not suspend the account.
    failed = {"okta.suspend", "okta.verify"}
    assert all(
        s.status in (S.SUCCEEDED, S.SKIPPED) for s in steps.values() if s.key not in failed
    ), [(s.key, s.status, s.last_error) for s in steps.values()]
    assert f"Okta shows the account {status}, not suspended" in steps["okta.verify"].detail
    assert req.state == ActionRequest.State.PARTIALLY_FAILED
    assert connected.person(email)["okta"]["status"] == status


def test_the_final_deactivate_does_not_run_after_a_refused_suspend(flow, connected):
    _set_okta_status(connected, ALICE, "PROVISIONED")
    req = flow.run("offboard", ALICE, systems=["okta"], options={"okta_deactivate": True})
    steps = flow.steps(req)
    assert steps["okta.suspend"].status == S.FAILED
    # Deactivation is the final step and waits for everything else to succeed: it does not run.
    assert steps["okta.deactivate"].status == S.CANCELLED
    assert connected.person(ALICE)["okta"]["status"] == "PROVISIONED"
