"""Issue 16, item 12: the request page draws the run on one time axis, with the waits visible."""

from __future__ import annotations

from django.urls import reverse

from offboarding import selectors, timeline
from tests.offboarding.test_retry_rounds import _fail_zoom_then_retry_later
from tests.offboarding.test_views import sign_in


def test_the_timeline_shows_each_system_its_lockout_and_the_wait_for_a_retry(
    approved, queue, fake_registry, helpdesk
):
    req = _fail_zoom_then_retry_later(approved, queue, fake_registry, helpdesk)
    req = selectors.action_request_detail(req.pk)
    drawn = timeline.run_timeline(req, selectors.steps_by_system(req))
    assert drawn is not None
    rows = {r.system: r for r in drawn.rows}
    assert list(rows) == ["okta", "zoom"]
    assert rows["okta"].lockout.endswith("after approval") and rows["okta"].marker_x is not None
    zoom_kinds = [s.kind for s in rows["zoom"].segments]
    assert "failed" in zoom_kinds and "ok" in zoom_kinds and "wait" in zoom_kinds
    assert rows["zoom"].waited.endswith("min")  # the five minutes before the person's retry
    wait = next(s for s in rows["zoom"].segments if s.kind == "wait")
    run = next(s for s in rows["okta"].segments if s.kind == "ok")
    assert wait.width > run.width  # minutes of waiting against a sub-second lock
    for row in drawn.rows:
        for seg in row.segments:
            assert drawn.label_width <= seg.x <= drawn.width


def test_the_request_page_draws_it_with_a_table_and_not_before_the_start(
    client, approved, queue, fake_registry, helpdesk, make_request
):
    pending = make_request("reset_sessions")
    sign_in(client, helpdesk)
    page = client.get(reverse("offboarding:request-detail", kwargs={"pk": pending.pk}))
    assert 'data-testid="run-timeline"' not in page.content.decode()
    req = _fail_zoom_then_retry_later(approved, queue, fake_registry, helpdesk)
    html = client.get(reverse("offboarding:request-detail", kwargs={"pk": req.pk})).content.decode()
    assert 'data-testid="run-timeline"' in html and 'data-testid="run-timeline-table"' in html
    assert 'data-kind="wait"' in html and "lockout-marker-okta" in html
