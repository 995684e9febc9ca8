"""The dashboard: figures from known data, SVG charts with text equivalents, scoping, refresh."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from offboarding.models import ActionRequest
from offboarding.roles import Role
from portal.dashboard import bar_chart, dashboard_figures, duration_words
from tests.offboarding.pages_data import history_request, lock_step

pytestmark = pytest.mark.django_db
S = ActionRequest.State
K = ActionRequest.Kind


@pytest.fixture
def known(helpdesk, approver):
    """Lockouts: okta 60 s, 120 s, 600 s (median 120 s); google 30 s; msgraph, zoom none in window."""
    now = timezone.now()
    day = timedelta(days=1)
    a = history_request(helpdesk, at=now - 2 * day, with_steps=False)
    lock_step(a, "okta", "suspend", after=timedelta(seconds=60))
    lock_step(a, "okta", "clear_sessions", after=timedelta(seconds=5), position=1)  # not a lock
    lock_step(a, "google", "suspend", after=timedelta(seconds=30))
    lock_step(a, "zoom", "deactivate", after=timedelta(seconds=9), status="failed")
    b = history_request(helpdesk, at=now - 3 * day, with_steps=False, state=S.PARTIALLY_FAILED)
    lock_step(b, "okta", "suspend", after=timedelta(seconds=120))
    lock_step(b, "zoom", "deactivate", after=timedelta(seconds=9), status="failed")
    lock_step(b, "okta", "reset_factors", after=timedelta(seconds=9), status="failed", position=1)
    # Reset sessions: the revoke step is the lockout.
    c = history_request(approver, at=now - 4 * day, with_steps=False, kind=K.RESET_SESSIONS)
    lock_step(c, "okta", "clear_sessions", after=timedelta(seconds=600))
    # Outside the 30 days: counted by state, not in lockout or failure figures.
    old = history_request(helpdesk, at=now - 40 * day, with_steps=False, state=S.FAILED)
    lock_step(old, "msgraph", "disable", after=timedelta(seconds=5))
    lock_step(old, "google", "suspend", after=timedelta(seconds=1), status="failed")
    # Reinstate steps never count as lockouts.
    d = history_request(approver, at=now - day, with_steps=False, kind=K.REINSTATE)
    lock_step(d, "msgraph", "enable", after=timedelta(seconds=3))
    history_request(
        approver, at=now, with_steps=False, state=S.PENDING_APPROVAL, approved_after=None
    )
    return {"a": a, "b": b, "c": c, "old": old, "d": d}


def test_median_time_to_lockout_per_system(auditor, known):
    figures = dashboard_figures(auditor)
    assert figures.lockout_medians == {"okta": 120.0, "google": 30.0, "msgraph": None, "zoom": None}
    assert figures.lockout_counts == {"okta": 3, "google": 1, "msgraph": 0, "zoom": 0}


def test_failures_per_system_over_thirty_days(auditor, known):
    assert dashboard_figures(auditor).failure_counts == {
        "okta": 1,
        "google": 0,
        "msgraph": 0,
        "zoom": 2,
    }


def test_requests_by_state_counts_every_request(auditor, known):
    assert dashboard_figures(auditor).state_counts == {
        "succeeded": 3,
        "partially_failed": 1,
        "failed": 1,
        "pending_approval": 1,
    }


def test_helpdesk_figures_cover_only_their_requests(helpdesk, approver, auditor, known):
    mine = dashboard_figures(helpdesk)
    assert mine.state_counts == {"succeeded": 1, "partially_failed": 1, "failed": 1}
    assert (
        mine.lockout_medians["okta"] == 90.0
    )  # 60 s and 120 s; the approver's 600 s is not theirs
    # An approver's figures follow the history page's rule (their own requests and those of their
    # approver groups, none here), not everyone's; the auditor's cover every request.
    assert dashboard_figures(approver).state_counts == {"succeeded": 2, "pending_approval": 1}
    assert dashboard_figures(auditor).state_counts["succeeded"] == 3


def test_approver_figures_count_only_the_requests_they_may_see(client, helpdesk, approver, auditor):
    managers = Group.objects.create(name="IT managers")
    approver.groups.add(managers)
    others = Group.objects.create(name="Finance approvers")
    now = timezone.now()
    theirs = history_request(helpdesk, at=now, approver_group=managers, with_steps=False)
    lock_step(theirs, "okta", "suspend", after=timedelta(seconds=40))
    elsewhere = history_request(
        helpdesk, at=now, approver_group=others, state=S.FAILED, with_steps=False
    )
    lock_step(elsewhere, "okta", "suspend", after=timedelta(seconds=400))
    lock_step(elsewhere, "zoom", "deactivate", after=timedelta(seconds=9), status="failed")
    history_request(approver, at=now, state=S.PENDING_APPROVAL, approved_after=None)

    figures = dashboard_figures(approver)
    assert figures.state_counts == {"succeeded": 1, "pending_approval": 1}
    assert figures.lockout_medians["okta"] == 40.0 and figures.failure_counts["zoom"] == 0
    # The same requests as their history page shows.
    client.force_login(approver)
    page = client.get("/requests/").context["rows"]
    assert sum(figures.state_counts.values()) == len(page)
    assert {r.pk for r in page} == {theirs.pk} | {
        r.pk for r in ActionRequest.objects.filter(requester=approver)
    }
    assert "Figures for the requests you may see" in client.get("/").content.decode()
    assert dashboard_figures(auditor).state_counts == {
        "succeeded": 1,
        "failed": 1,
        "pending_approval": 1,
    }


def test_user_without_a_role_sees_empty_figures(django_user_model, known):
    nobody = django_user_model.objects.create_user(username="nobody", password="x")
    assert dashboard_figures(nobody).state_counts == {}


def test_dashboard_draws_svg_charts_with_text_equivalents(client, auditor, known):
    client.force_login(auditor)
    html = client.get("/").content.decode()
    assert html.count("<svg") == 3 and 'role="img"' in html
    assert "Median time to lockout per system" in html
    # The chart's accessible name and its table both carry the numbers in words.
    assert re.search(r"<title[^>]*>Median time to lockout[^<]*Okta 2.0 min \(3\)", html)
    assert "<td>Zoom</td><td>2</td>" in html
    assert "<td>Microsoft 365</td><td>no lockouts</td>" in html
    assert "<td>Succeeded</td><td>3</td>" in html
    # The Content-Security-Policy forbids inline styles: presentation attributes only.
    assert "<style" not in html and "style=" not in html


def test_dashboard_refreshes_itself_with_a_fragment(client, helpdesk, known):
    client.force_login(helpdesk)
    html = client.get("/").content.decode()
    assert 'hx-trigger="every 30s"' in html and "?part=figures" in html
    fragment = client.get("/", {"part": "figures"}, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert "Figures for the requests you may see" in fragment


def test_dashboard_keeps_the_role_tiles(client, django_user_model, known):
    everyone = django_user_model.objects.create_user(username="all", password="x")
    everyone.groups.set([Group.objects.get_or_create(name=r)[0] for r in Role.values])
    client.force_login(everyone)
    html = client.get("/").content.decode()
    for title in (
        "<h2>Helpdesk</h2>",
        "<h2>Approvals</h2>",
        "<h2>Audit</h2>",
        "<h2>Connections</h2>",
    ):
        assert title in html


def test_bars_scale_to_the_largest_value():
    chart = bar_chart("x", "X", "N", [("a", 10, "10", "#000"), ("b", 5, "5", "#000")], "none")
    assert chart.bars[0].width == 2 * chart.bars[1].width > 0
    assert chart.aria_label == "X: a 10; b 5"
    assert not bar_chart("y", "Y", "N", [("a", 0, "0", "#000")], "nothing").has_data


@pytest.mark.parametrize(
    ("seconds", "words"), [(30, "30 s"), (120, "2.0 min"), (7200, "2.0 h"), (3 * 86400, "3.0 d")]
)
def test_durations_in_words(seconds, words):
    assert duration_words(seconds) == words
