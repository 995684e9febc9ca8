"""Windowed keyset pages give the same rows as plain ones; trigram indexes exist on PostgreSQL only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from offboarding import keyset, selectors
from offboarding.audit import audit_record
from offboarding.models import ActionRequest, AuditEvent
from tests.offboarding.pages_data import history_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(helpdesk, auditor):
    for i in range(60):
        audit_record(
            action=AuditEvent.Action.USER_VIEW,
            actor=helpdesk if i % 4 else auditor,
            target=f"person{i % 7}@x.com",
        )


def _walk(page_of, key, below_last) -> tuple[list, list]:
    """Every row older-wards from the top, then newer-wards back up from below the bottom row."""
    down, page = [], page_of(None, None)
    while True:
        down += page.rows
        if not page.has_older:
            break
        page = page_of(key(page.rows[-1]), None)
    up, page = [], page_of(None, below_last(down[-1]))
    while page.rows:
        up = page.rows + up
        if not page.has_newer:
            break
        page = page_of(None, key(page.rows[0]))
    return down, up


@pytest.mark.parametrize("window", [3, 10, 1000])
@pytest.mark.parametrize("filters", [{"actor": "auditor"}, {"target": "person3@"}, {}])
def test_windowed_audit_pages_match_the_plain_order(events, monkeypatch, window, filters):
    monkeypatch.setattr(keyset, "WINDOW", window)
    monkeypatch.setattr(keyset, "MAX_WALK", window * 3)

    def page_of(older_than, newer_than):
        return selectors.audit_event_page(
            filters=filters, older_than=older_than, newer_than=newer_than, size=4
        )

    expected = list(selectors.audit_event_list(**filters).values_list("seq", flat=True))
    down, up = _walk(page_of, lambda e: (e.seq,), lambda e: (e.seq - 1,))
    assert [e.seq for e in down] == expected
    assert [e.seq for e in up] == expected


@pytest.mark.parametrize("filters", [{"target": "p1"}, {"state": "failed"}, {}])
def test_windowed_history_pages_match_the_plain_order(auditor, helpdesk, monkeypatch, filters):
    now = timezone.now()
    for i in range(25):
        history_request(
            helpdesk,
            at=now - timedelta(minutes=i // 2),  # ties on requested_at, broken by id
            login=f"p{i}@x.com",
            state="failed" if i % 3 else "succeeded",
            with_steps=False,
        )
    monkeypatch.setattr(keyset, "WINDOW", 4)
    monkeypatch.setattr(keyset, "MAX_WALK", 12)

    def page_of(older_than, newer_than):
        return selectors.action_request_history_page(
            user=auditor, filters=filters, older_than=older_than, newer_than=newer_than, size=3
        )

    expected = list(
        selectors.action_request_history(user=auditor, **filters).values_list("pk", flat=True)
    )
    down, up = _walk(
        page_of,
        lambda r: (r.requested_at, r.pk),
        lambda r: (r.requested_at - timedelta(microseconds=1), 0),
    )
    assert [r.pk for r in down] == expected
    assert [r.pk for r in up] == expected


def test_a_filtered_page_reads_only_the_shown_columns(events):
    with CaptureQueriesContext(connection) as ctx:
        selectors.audit_event_page(filters={"actor": "helpdesk"}, size=5)
    page_sql = [
        q["sql"] for q in ctx.captured_queries if 'offboarding_auditevent"."at"' in q["sql"]
    ]
    assert page_sql and all('"hash"' not in sql and "auth_user" not in sql for sql in page_sql)


def test_word_filters_have_trigram_indexes_on_postgresql_only():
    with connection.cursor() as cursor:
        names = set(connection.introspection.get_constraints(cursor, "offboarding_auditevent"))
        names |= set(connection.introspection.get_constraints(cursor, "offboarding_actionrequest"))
    trigram = {n for n in names if n.endswith("_trgm")}
    if connection.vendor == "postgresql":
        assert trigram == {
            "audit_target_trgm",
            "audit_actor_label_trgm",
            "request_target_words_trgm",
        }
    else:
        assert trigram == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
@pytest.mark.parametrize(
    ("rows", "index"),
    [
        (lambda user: selectors.audit_event_list(target="person3@"), "audit_target_trgm"),
        (lambda user: selectors.audit_event_list(actor="nobody"), "audit_actor_label_trgm"),
        (
            lambda user: (
                ActionRequest.objects.alias(words=selectors.TargetWords())
                .filter(words__icontains="p1@")
                .order_by()
            ),
            "request_target_words_trgm",
        ),
    ],
)
def test_word_filters_are_answered_by_their_trigram_index(auditor, rows, index):
    sql, params = rows(auditor)[:10].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the index an option
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


@pytest.mark.parametrize("actor", ["auditor", "nobody", "helpdesk"])
def test_a_windowed_page_runs_a_bounded_number_of_queries_whatever_the_rows(
    client, auditor, helpdesk, monkeypatch, actor
):
    monkeypatch.setattr(keyset, "WINDOW", 5)
    monkeypatch.setattr(keyset, "MAX_WALK", 20)
    client.force_login(auditor)
    url = reverse("offboarding:audit") + f"?actor={actor}"
    counts = []
    for _ in range(2):
        for i in range(90):
            audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk if i % 9 else auditor)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    # Bounded by the windows walked, not by the rows; the audit page also runs its incremental
    # chain check (a fixed handful of queries: the mark, the head, the last checkpoint).
    assert max(counts) <= 26, counts
