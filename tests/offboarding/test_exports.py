"""Exports: the PostgreSQL path (cells and lines made by the database) writes what Python writes.

On SQLite both sides are the Python path; on PostgreSQL (`make test-pg`) this compares the two.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from offboarding import exports, selectors
from offboarding.audit import audit_record
from offboarding.models import AuditEvent
from tests.offboarding.pages_data import history_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def tricky(helpdesk, auditor):
    group = Group.objects.create(name="Zoë's approvers")
    history_request(
        helpdesk,
        at=datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),  # no microseconds
        name='=HYPERLINK("x")',
        reason='-1, "quoted"\nand a new line',
        approver_group=group,
    )
    history_request(
        helpdesk,
        at=datetime(2026, 3, 2, 8, 30, 1, 250, tzinfo=UTC),
        name="Zoë",
        approved_after=None,
    )
    audit_record(
        action=AuditEvent.Action.USER_VIEW,
        actor=helpdesk,
        target="@zoë@example.com",
        details={"query": "Zoë", "n": -5, "nested": {"ok": True, "list": [1, 2.5, None]}},
    )
    audit_record(action=AuditEvent.Action.SIGN_IN, actor=auditor, details={})


def _both(qs, columns, lines, monkeypatch) -> tuple[str, str]:
    native = "".join(lines(qs, columns))
    with monkeypatch.context() as m:
        m.setattr(connection, "vendor", "python")
        python = "".join(lines(qs, columns))
    return native, python


@pytest.mark.parametrize(
    ("rows", "columns"),
    [
        (lambda user: selectors.action_request_history(user=user), exports.REQUEST_COLUMNS),
        (lambda user: selectors.audit_event_list(), exports.EVENT_COLUMNS),
    ],
)
def test_the_database_and_python_write_the_same_csv_and_json_lines(
    tricky, auditor, monkeypatch, rows, columns
):
    qs = rows(auditor)
    native, python = _both(qs, columns, exports.csv_lines, monkeypatch)
    assert native == python  # byte for byte: quoting, CRLF line ends, escaped JSON
    assert len(list(csv.reader(io.StringIO(native)))) == qs.count() + 1
    native, python = _both(qs, columns, exports.jsonl_lines, monkeypatch)
    assert [json.loads(x) for x in native.splitlines()] == [
        json.loads(x) for x in python.splitlines()
    ]
    assert len(native.splitlines()) == qs.count()


def test_csv_cells_are_guarded_and_times_are_iso_utc(tricky, auditor):
    qs = selectors.action_request_history(user=auditor)
    rows = list(
        csv.DictReader(io.StringIO("".join(exports.csv_lines(qs, exports.REQUEST_COLUMNS))))
    )
    older = rows[-1]
    assert older["target_name"] == '\'=HYPERLINK("x")'
    assert older["reason"] == '\'-1, "quoted"\nand a new line'
    assert older["requested_at"] == "2026-03-01T12:00:00+00:00"
    assert older["approver_group"] == "Zoë's approvers"
    assert rows[0]["requested_at"] == "2026-03-02T08:30:01.000250+00:00"
    assert rows[0]["approved_at"] == "" and rows[0]["approver_group"] == ""
    assert json.loads(rows[0]["systems"]) == ["okta", "google", "msgraph", "zoom"]


def test_an_export_reads_in_chunks_not_a_query_per_row(tricky, auditor, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 1)
    qs = selectors.audit_event_list()
    with CaptureQueriesContext(connection) as ctx:
        "".join(exports.jsonl_lines(qs, exports.EVENT_COLUMNS))
        "".join(exports.csv_lines(qs, exports.EVENT_COLUMNS))
    assert len(ctx.captured_queries) <= 2  # one cursor each, fetched a chunk at a time
