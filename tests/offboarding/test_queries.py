"""No N+1: the list pages run the same number of queries for 5 rows as for 50."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from offboarding.audit import audit_record
from offboarding.models import ActionRequest, AuditEvent, StepRun
from tests.offboarding.pages_data import history_request, lock_step

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15


@pytest.fixture
def managers(approver) -> Group:
    group = Group.objects.create(name="IT managers")
    approver.groups.add(group)
    return group


def _queries(client, url: str) -> int:
    client.get(url)  # warm: session and user loading are not the page's queries
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(
    client, django_assert_max_num_queries, url: str, add: Callable[[int], None]
) -> tuple[int, int]:
    add(5)
    small = _queries(client, url)
    add(45)
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(url)
    large = _queries(client, url)
    return small, large


def _requests(helpdesk, managers, **kw):
    counter = iter(range(10_000))

    def add(n: int) -> None:
        now = timezone.now()
        for _ in range(n):
            i = next(counter)
            req = history_request(
                helpdesk,
                at=now - timedelta(minutes=i),
                login=f"p{i}@x.com",
                approver_group=managers,
                **kw,
            )
            lock_step(req, "okta", "clear_sessions", after=timedelta(minutes=2), position=9)
            lock_step(
                req, "zoom", "revoke_token", after=timedelta(minutes=3), status="failed", position=8
            )

    return add


def test_history_page_query_count_does_not_grow(
    client, auditor, helpdesk, managers, django_assert_max_num_queries
):
    client.force_login(auditor)
    small, large = _grow(
        client,
        django_assert_max_num_queries,
        reverse("offboarding:request-list"),
        _requests(helpdesk, managers),
    )
    assert small == large


def test_filtered_history_page_query_count_does_not_grow(
    client, approver, helpdesk, managers, django_assert_max_num_queries
):
    client.force_login(approver)
    url = reverse("offboarding:request-list") + "?system=okta&target=x.com"
    small, large = _grow(client, django_assert_max_num_queries, url, _requests(helpdesk, managers))
    assert small == large


def test_audit_page_query_count_does_not_grow(
    client, auditor, helpdesk, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for i in range(n):
            audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk, target=f"p{i}@x.com")

    client.force_login(auditor)
    small, large = _grow(client, django_assert_max_num_queries, reverse("offboarding:audit"), add)
    assert small == large


def test_approvals_page_query_count_does_not_grow(
    client, approver, helpdesk, managers, django_assert_max_num_queries
):
    client.force_login(approver)
    add = _requests(
        helpdesk, managers, state=ActionRequest.State.PENDING_APPROVAL, approved_after=None
    )
    small, large = _grow(
        client, django_assert_max_num_queries, reverse("offboarding:approvals"), add
    )
    assert small == large
    assert ActionRequest.objects.filter(state="pending_approval").count() == 50


@pytest.mark.parametrize("who", ["auditor", "helpdesk"])
def test_dashboard_query_count_does_not_grow(
    client, request, who, helpdesk, managers, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(who))
    small, large = _grow(client, django_assert_max_num_queries, "/", _requests(helpdesk, managers))
    assert small == large
    assert StepRun.objects.count() == 50 * 6
