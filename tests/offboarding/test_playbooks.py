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
    ]
    assert all(s.depends_on == () for s in steps)
    assert steps[0].options == {"oauth_tokens": True, "forget_devices": False}


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
    assert keys(steps) == ["google.suspend", "google.revoke_oauth_tokens"]


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
