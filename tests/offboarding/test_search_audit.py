"""One audit event per search a person makes, not one per keystroke.

Type-ahead lookups (sent by the name box as the person types) record nothing; a submitted search, an
expression, a further page, or opening a person from type-ahead results records the search once.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from offboarding.models import AuditEvent
from tests.offboarding.test_views_pages import RESULTS, SEARCH, sign_in, user_url

pytestmark = pytest.mark.django_db


def searches() -> list[dict]:
    return list(
        AuditEvent.objects.filter(action=AuditEvent.Action.USER_SEARCH)
        .order_by("seq")
        .values_list("details", flat=True)
    )


def test_type_ahead_lookups_record_nothing_and_their_links_carry_the_query(
    client, helpdesk, fake_registry
):
    sign_in(client, helpdesk)
    for letters in ("pa", "pat", "pat@"):
        fragment = client.get(RESULTS, {"q": letters, "typeahead": "1"}).content.decode()
    assert f'href="{user_url("00u1")}?q=pat%40"' in fragment
    assert searches() == []


def test_opening_a_person_from_type_ahead_records_the_search_then_the_view(
    client, helpdesk, fake_registry
):
    sign_in(client, helpdesk)
    client.get(RESULTS, {"q": "pat", "typeahead": "1"})
    assert client.get(user_url("00u1"), {"q": "pat"}).status_code == 200
    events = list(
        AuditEvent.objects.exclude(action=AuditEvent.Action.SIGN_IN)
        .order_by("seq")
        .values_list("action", "details")
    )
    assert [a for a, _ in events] == [AuditEvent.Action.USER_SEARCH, AuditEvent.Action.USER_VIEW]
    assert events[0][1] == {"query": "pat", "expression": "", "failed": False}


def test_opening_a_person_without_a_search_records_the_view_only(client, helpdesk, fake_registry):
    sign_in(client, helpdesk).get(user_url("00u1"))
    assert searches() == []
    assert AuditEvent.objects.filter(action=AuditEvent.Action.USER_VIEW).count() == 1


def test_a_submitted_search_is_recorded_once_and_its_links_carry_nothing(
    client, helpdesk, fake_registry
):
    fragment = sign_in(client, helpdesk).get(RESULTS, {"q": "pat"}).content.decode()
    assert f'href="{user_url("00u1")}"' in fragment
    assert searches() == [{"query": "pat", "expression": "", "failed": False}]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "", "expression": 'profile.department eq "Sales"', "typeahead": "1"},
        {"q": "pat", "after": "00u1", "typeahead": "1"},
    ],
)
def test_expressions_and_further_pages_are_recorded_even_from_the_name_box(
    client, helpdesk, fake_registry, params
):
    sign_in(client, helpdesk).get(RESULTS, params)
    assert len(searches()) == 1


def test_the_search_page_sends_type_ahead_from_the_box_and_submits_searches(client, helpdesk):
    page = sign_in(client, helpdesk).get(SEARCH).content.decode()
    assert """hx-vals='{"typeahead": "1"}'""" in page
    assert 'hx-trigger="input changed delay:300ms"' in page
    assert 'hx-trigger="submit"' in page
    assert reverse("offboarding:search-results") in page
