"""Playbooks as data: which steps, in which order, with which options; acyclic; rendered as words."""

from __future__ import annotations

import pytest

from offboarding import playbooks
from offboarding.exceptions import InvalidPlaybook


def keys(steps):
    return [s.key for s in steps]


def test_reset_sessions_runs_all_four_systems_in_parallel():
    steps = playbooks.build_steps(
        "reset_sessions", systems=["zoom", "okta", "google", "msgraph"], options=None
    )
    assert keys(steps) == [
        "okta.clear_sessions",
        "google.sign_out",
        "zoom.revoke_token",
        "msgraph.revoke_sessions",
        "okta.verify",
        "google.verify",
        "zoom.verify",
        "msgraph.verify",
    ]
    assert all(s.depends_on == () for s in steps[:4])
    # Okta forgets remembered devices unless asked not to (its API's own default).
    assert steps[0].options == {"oauth_tokens": True, "forget_devices": True}


def test_each_system_is_verified_after_its_own_steps_and_told_which_ran():
    steps = {
        s.key: s
        for s in playbooks.build_steps(
            "offboard",
            systems=playbooks.ALL_SYSTEMS,
            options={"okta_deactivate": True, "okta_lock_devices": False},
        )
    }
    okta = steps["okta.verify"]
    assert set(okta.depends_on) == {
        "okta.suspend",
        "okta.clear_sessions",
        "okta.reset_factors",
        "okta.remove_from_groups",
        "okta.revoke_grants",
        "okta.unassign_apps",
    }
    assert okta.options["unassign_apps"] is True and "lock_devices" not in okta.options
    assert steps["zoom.verify"].depends_on == ("zoom.deactivate", "zoom.revoke_token")
    # The irreversible deactivate waits for the verifications too.
    assert {"okta.verify", "google.verify"} <= set(steps["okta.deactivate"].depends_on)
    assert "okta.verify" not in steps["okta.deactivate"].options


def test_new_offboard_steps_carry_their_choices():
    steps = {
        s.key: s
        for s in playbooks.build_steps(
            "offboard",
            systems=playbooks.ALL_SYSTEMS,
            options={
                "okta_deactivate": True,
                "okta_deactivate_send_email": True,
                "google_mobile_block_only": True,
                "okta_deactivate_devices": False,
            },
        )
    }
    assert steps["okta.deactivate"].options == {"send_email": True}
    assert steps["google.mobile_devices"].options == {"block_only": True}
    assert steps["okta.lock_devices"].options == {"deactivate": False}
    assert steps["okta.unassign_apps"].depends_on == ("okta.suspend",)
    assert steps["msgraph.disable_devices"].depends_on == ("msgraph.disable",)
    assert steps["google.invalidate_backup_codes"].depends_on == ("google.suspend",)


def test_the_plan_says_when_a_verification_runs():
    plan = playbooks.render_plan(playbooks.build_steps("offboard", systems=["zoom"], options=None))
    (zoom,) = plan
    assert zoom["steps"][-1]["label"] == "Verify the Zoom lockout"
    assert zoom["steps"][-1]["after"] == "after the other steps here, reading the account back"


def test_offboard_locks_each_system_before_revoking():
    steps = {
        s.key: s
        for s in playbooks.build_steps("offboard", systems=playbooks.ALL_SYSTEMS, options=None)
    }
    assert steps["okta.suspend"].depends_on == ()
    for key in (
        "okta.clear_sessions",
        "okta.reset_factors",
        "okta.remove_from_groups",
        "okta.revoke_grants",
    ):
        assert steps[key].depends_on == ("okta.suspend",)
    assert steps["google.delete_app_passwords"].depends_on == ("google.suspend",)
    assert steps["msgraph.revoke_sessions"].depends_on == ("msgraph.disable",)
    assert steps["zoom.revoke_token"].depends_on == ("zoom.deactivate",)
    assert "okta.deactivate" not in steps


def test_okta_deactivate_is_last_and_waits_for_every_other_step():
    steps = playbooks.build_steps(
        "offboard", systems=playbooks.ALL_SYSTEMS, options={"okta_deactivate": True}
    )
    last = steps[-1]
    assert last.key == "okta.deactivate" and last.after_all
    assert set(last.depends_on) == set(keys(steps[:-1]))


def test_options_choose_the_steps():
    steps = playbooks.build_steps(
        "offboard",
        systems=["google"],
        options={"google_sign_out": False, "google_delete_app_passwords": False},
    )
    assert keys(steps) == [
        "google.suspend",
        "google.revoke_oauth_tokens",
        "google.invalidate_backup_codes",
        "google.mobile_devices",
        "google.verify",
    ]


def test_reinstate_undoes_the_locks_and_puts_back_groups_and_apps_after_the_unsuspend():
    steps = playbooks.build_steps("reinstate", systems=playbooks.ALL_SYSTEMS, options=None)
    assert keys(steps) == [
        "okta.unsuspend",
        "okta.restore_groups",
        "okta.restore_apps",
        "google.unsuspend",
        "msgraph.enable",
        "zoom.activate",
    ]
    waits = {s.key: s.depends_on for s in steps}
    assert waits["okta.restore_groups"] == waits["okta.restore_apps"] == ("okta.unsuspend",)
    only_locks = playbooks.build_steps(
        "reinstate",
        systems=["okta"],
        options={"okta_restore_groups": False, "okta_restore_apps": False},
    )
    assert keys(only_locks) == ["okta.unsuspend"]


def test_a_cycle_is_refused():
    a = playbooks.PlannedStep("a.x", "okta", "x", "A", {}, ("b.y",))
    b = playbooks.PlannedStep("b.y", "okta", "y", "B", {}, ("a.x",))
    with pytest.raises(InvalidPlaybook, match="cycle"):
        playbooks.check_acyclic([a, b])


def test_every_shipped_playbook_is_acyclic_for_every_system_choice():
    import itertools

    for kind, playbook in playbooks.PLAYBOOKS.items():
        for n in range(1, 5):
            for systems in itertools.combinations(playbooks.ALL_SYSTEMS, n):
                options = {o.key: True for o in playbook.options}
                playbooks.build_steps(kind, systems=systems, options=options)


def test_the_plan_reads_as_words():
    steps = playbooks.build_steps(
        "offboard", systems=["okta", "zoom"], options={"okta_deactivate": True}
    )
    text = "\n".join(
        f"{system['label']}:\n"
        + "\n".join(f"  - {s['label']} ({s['after']})" for s in system["steps"])
        for system in playbooks.render_plan(steps)
    )
    assert "Okta:\n  - Suspend in Okta (at once)" in text
    assert "Clear Okta sessions and OAuth tokens (after Suspend in Okta)" in text
    assert "Deactivate in Okta (irreversible) (after every other step succeeded)" in text
    assert (
        "Zoom:\n  - Deactivate in Zoom (at once)\n  - Revoke the Zoom SSO token (after Deactivate in Zoom)"
        in text
    )


def test_unknown_kinds_options_and_no_systems_are_refused():
    with pytest.raises(InvalidPlaybook):
        playbooks.build_steps("wipe", systems=["okta"], options=None)
    with pytest.raises(InvalidPlaybook):
        playbooks.build_steps("offboard", systems=[], options=None)
    with pytest.raises(InvalidPlaybook):
        playbooks.build_steps("reset_sessions", systems=["okta"], options={"okta_deactivate": True})
