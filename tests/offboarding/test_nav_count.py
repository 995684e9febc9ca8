"""The navigation counts the requests waiting for this approver, and only those."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _count(client, user) -> str | None:
    client.force_login(user)
    html = client.get("/").content.decode()
    marker = 'data-testid="nav-count-approvals"'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split(">", 1)[1].split("<", 1)[0]


def test_approvers_see_how_many_requests_wait_for_them(
    client, make_request, approver, other_approver, helpdesk, approve
):
    req = make_request("reset_sessions")
    make_request("offboard", okta_id="00u1", reason="Second one")
    assert _count(client, approver) == "2"
    approve(req, approver)
    assert _count(client, approver) == "1"  # decided requests no longer count
    assert _count(client, other_approver) == "1"
    assert _count(client, helpdesk) is None  # no Approvals entry at all


def test_an_approvers_own_requests_are_not_counted(client, make_request, approver):
    make_request("reset_sessions", requester=approver)
    assert _count(client, approver) is None
