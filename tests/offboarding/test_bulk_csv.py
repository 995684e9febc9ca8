"""The bulk file parser: what spreadsheets hand us, the limits, and properties (hypothesis)."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offboarding import bulk_csv
from offboarding.bulk_csv import CsvRejected, parse


def identities(data: bytes) -> list[str]:
    return [r.identity for r in parse(data).rows]


def test_a_byte_order_mark_and_a_header_are_not_people():
    data = codecs.BOM_UTF8 + b"login,reason\nalice@acme.example,left\n"
    parsed = parse(data)
    assert parsed.header is True
    assert [(r.identity, r.reason) for r in parsed.rows] == [("alice@acme.example", "left")]


def test_semicolons_quotes_and_empty_lines():
    data = b'Email;Ticket;Reason\n\n"bob@acme.example";INC-1;"left; moved on"\n;;\n\r\ncy@x.example;;\n'
    parsed = parse(data)
    assert parsed.separator == ";"
    assert [(r.identity, r.ticket, r.reason) for r in parsed.rows] == [
        ("bob@acme.example", "INC-1", "left; moved on"),
        ("cy@x.example", "", ""),
    ]
    assert [r.line for r in parsed.rows] == [3, 6]  # the file's own line numbers


def test_without_a_header_the_columns_are_identity_reason_ticket_scheduled_for():
    parsed = parse(b"alice@acme.example,left,INC-9,2026-12-24T18:00+01:00\n")
    (row,) = parsed.rows
    assert parsed.header is False
    assert (row.reason, row.ticket) == ("left", "INC-9")
    assert row.scheduled_for == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)


def test_a_time_without_an_offset_is_utc_and_a_bad_one_is_a_row_problem():
    rows = parse(b"login,scheduled_for\na@x.example,2026-12-24 08:00\nb@x.example,tomorrow\n").rows
    assert rows[0].scheduled_for == datetime(2026, 12, 24, 8, 0, tzinfo=UTC)
    assert rows[1].scheduled_for is None and "scheduled_for" in rows[1].problem


def test_mixed_case_keeps_what_was_written_and_matches_casefolded():
    (row,) = parse(b"Alice.Anders@ACME.example\n").rows
    assert row.identity == "Alice.Anders@ACME.example"
    assert row.key == "alice.anders@acme.example"


def test_formula_cells_are_not_people_and_the_text_mark_is_undone():
    rows = parse(b'=HYPERLINK("http://evil")\n@SUM(A1)\n\'=x@acme.example\n+1@x\n').rows
    assert [r.problem for r in rows[:2]] == ["not a login or email"] * 2
    assert rows[2].identity == "=x@acme.example" and rows[2].problem  # still not a login
    assert rows[3].problem == "not a login or email"


def test_a_formula_in_a_reason_is_kept_as_text():
    (row,) = parse(b"a@x.example,=1+2\n").rows
    assert row.reason == "=1+2" and row.problem == ""


def test_utf16_with_its_mark_is_read():
    data = "login\nzoë@acme.example\n".encode("utf-16")
    assert identities(data) == ["zoë@acme.example"]


def test_a_file_that_is_not_utf8_is_refused_in_words():
    with pytest.raises(CsvRejected, match="not UTF-8"):
        parse("login\nzoë@acme.example\n".encode("latin-1"))


def test_binary_data_is_refused():
    with pytest.raises(CsvRejected, match="binary"):
        parse(b"a@x.example\x00\x01\n")


def test_too_many_rows_is_refused_in_words(monkeypatch):
    monkeypatch.setattr(bulk_csv, "MAX_ROWS", 3)
    with pytest.raises(CsvRejected, match="more than 3 people"):
        parse(b"a@x\nb@x\nc@x\nd@x\n")
    assert len(parse(b"a@x\nb@x\nc@x\n").rows) == 3


def test_too_many_bytes_is_refused_before_reading(monkeypatch):
    monkeypatch.setattr(bulk_csv, "MAX_BYTES", 10)
    with pytest.raises(CsvRejected, match="limit is"):
        parse(b"a@x.example\nb@x.example\n")


def test_an_empty_file_is_refused():
    with pytest.raises(CsvRejected, match="no rows"):
        parse(codecs.BOM_UTF8 + b"\n\n;;\n")


def test_ten_thousand_rows_are_read():
    data = "\n".join(f"user{i}@acme.example" for i in range(10_000)).encode()
    assert len(parse(data).rows) == 10_000


# --- properties --------------------------------------------------------------------------------

_local = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789._", min_size=1, max_size=20
)
_logins = st.builds(lambda u, d: f"{u}@{d}.example", _local, st.sampled_from(["acme", "x-y"]))
_free_text = (
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
    .map(str.strip)
    .filter(lambda t: not t.startswith("'"))
)


@st.composite
def _files(draw):
    rows = draw(st.lists(st.tuples(_logins, _free_text, _free_text), min_size=1, max_size=30))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    header = draw(st.booleans())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, quoting=draw(st.sampled_from([0, 1])))
    if header:
        writer.writerow(
            draw(st.sampled_from([["login", "reason"], ["EMAIL", "Reason"]])) + ["ticket"]
        )
    for login, reason, ticket in rows:
        if draw(st.booleans()):
            buffer.write("\r\n" if draw(st.booleans()) else "\n")  # empty lines
        writer.writerow([login.upper() if draw(st.booleans()) else login, reason, ticket[:100]])
    text = buffer.getvalue()
    bom = draw(st.booleans())
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(), rows


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_files())
def test_every_written_row_is_read_back_in_order(case):
    data, rows = case
    parsed = parse(data).rows
    assert [r.key for r in parsed] == [login.casefold() for login, _, _ in rows]
    assert [r.reason for r in parsed] == [reason for _, reason, _ in rows]
    assert all(r.problem == "" or r.problem.startswith("the reason") for r in parsed)


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_any_bytes_give_rows_or_a_refusal_in_words(data):
    try:
        parsed = parse(data)
    except CsvRejected as exc:
        assert str(exc)
    else:
        assert parsed.rows and all(r.identity or r.problem for r in parsed.rows)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-12, max_value=14),
)
def test_scheduled_for_round_trips_any_offset(moment, hours):
    aware = moment.replace(tzinfo=timezone(timedelta(hours=hours)))
    (row,) = parse(f"a@x.example,,,{aware.isoformat()}\n".encode()).rows
    assert row.scheduled_for == aware


def test_the_separator_is_the_one_that_leaves_a_login_in_the_first_cell():
    parsed = parse(b"a@x.example;left, after, many, years;INC-1\n")
    assert parsed.separator == ";"
    assert [(r.identity, r.reason) for r in parsed.rows] == [
        ("a@x.example", "left, after, many, years")
    ]
