"""Export rows (history, audit trail) as CSV or JSON lines, one string per chunk of rows.

On PostgreSQL the database formats every cell (ISO times in UTC, the spreadsheet-formula guard, JSON
as text) and, for JSON lines, every whole line (`row_to_json`), read through a server-side cursor:
Python only writes chunks. Elsewhere (SQLite) Python formats value tuples. Both give the same cells
(`tests/offboarding/test_exports.py`); PostgreSQL writes nested JSON with its own spacing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from django.db import connection
from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.functions import Coalesce

CHUNK_SIZE = 5000
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> str:
    """The cell as text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class Column:
    """One exported column: its header, the field it is read from, and its kind."""

    header: str
    field: str
    kind: str = "text"  # int | text | hex (our own hashes: never formula-like) | when | json


REQUEST_COLUMNS = (
    Column("id", "id", "int"),
    Column("action", "kind"),
    Column("state", "state"),
    Column("target_login", "target_login"),
    Column("target_name", "target_name"),
    Column("target_email", "target_email"),
    Column("target_okta_id", "target_okta_id"),
    Column("systems", "systems", "json"),
    Column("requester", "requester__username"),
    Column("approver_group", "approver_group__name"),
    Column("reason", "reason"),
    Column("ticket", "ticket"),
    Column("state_note", "state_note"),
    Column("requested_at", "requested_at", "when"),
    Column("approved_at", "approved_at", "when"),
    Column("started_at", "started_at", "when"),
    Column("finished_at", "finished_at", "when"),
)
EVENT_COLUMNS = (
    Column("seq", "seq", "int"),
    Column("at", "at", "when"),
    Column("actor", "actor_label"),
    Column("action", "action"),
    Column("object_type", "object_type"),
    Column("object_id", "object_id"),
    Column("target", "target"),
    Column("ip", "ip"),
    Column("details", "details", "json"),
    Column("prev_hash", "prev_hash", "hex"),
    Column("hash", "hash", "hex"),
)


def csv_lines(qs: QuerySet[Any], columns: tuple[Column, ...]) -> Iterator[str]:
    """The header, then one string per chunk of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    yield buffer.getvalue()
    if connection.vendor == "postgresql":
        yield from _pg_csv(qs, columns, writer, buffer)
        return
    for chunk in _csv_rows(qs, columns):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(chunk)
        yield buffer.getvalue()


def jsonl_lines(qs: QuerySet[Any], columns: tuple[Column, ...]) -> Iterator[str]:
    """One JSON object a line, one string per chunk of rows."""
    if connection.vendor == "postgresql":
        yield from _pg_jsonl(qs, columns)
        return
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    headers = [c.header for c in columns]
    convert = [_JSON_VALUE.get(c.kind, _same) for c in columns]
    for chunk in _chunks(qs.values_list(*(c.field for c in columns))):
        yield "".join(
            encode(
                dict(zip(headers, [f(v) for f, v in zip(convert, row, strict=True)], strict=True))
            )
            + "\n"
            for row in chunk
        )


# --- Python formatting (SQLite) -------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def _same(value: Any) -> Any:
    return value


_CSV_CELL: dict[str, Callable[[Any], Any]] = {
    "int": _same,  # csv writes an int as str() does; ids are never formula-like
    "hex": csv_safe,
    "text": csv_safe,
    "when": _when,
    "json": lambda value: csv_safe(json.dumps(value) if isinstance(value, dict | list) else value),
}
_JSON_VALUE: dict[str, Callable[[Any], Any]] = {
    "text": lambda value: value if value is not None else "",
    "when": _when,
    "json": lambda value: list(value) if isinstance(value, list) else value,
}


def _chunks(qs: QuerySet[Any]) -> Iterator[list[tuple]]:
    rows = qs.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        yield chunk


def _csv_rows(qs: QuerySet[Any], columns: tuple[Column, ...]) -> Iterator[list[Any]]:
    convert = [_CSV_CELL[c.kind] for c in columns]
    for chunk in _chunks(qs.values_list(*(c.field for c in columns))):
        yield [[f(v) for f, v in zip(convert, row, strict=True)] for row in chunk]


# --- PostgreSQL formatting ------------------------------------------------------------------------

_GUARD = (
    "CASE WHEN left(%(expressions)s, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
    "THEN '''' || %(expressions)s ELSE %(expressions)s END"
)
# isoformat() leaves out the microseconds when they are zero; so does the replace().
_ISO_UTC = (
    "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
)


def _text(expression: Any, template: str) -> Func:
    return Func(expression, template=template, output_field=TextField())


def _pg_cell(column: Column, *, for_json: bool) -> Any:
    field = F(column.field)
    if column.kind in ("int", "hex"):
        return field
    if column.kind == "when":
        iso = _text(field, _ISO_UTC)
        return Coalesce(iso, Value(""), output_field=TextField()) if for_json else iso
    if column.kind == "json":
        return field if for_json else _text(_text(field, "(%(expressions)s)::text"), _GUARD)
    if for_json:
        return Coalesce(field, Value(""), output_field=TextField())
    return _text(field, _GUARD)


# Digits, hex and ISO times hold no comma, quote or line break: csv.writer writes them as they are.
_NEVER_QUOTED = ("int", "hex", "when")


def _csv_quote(cell: str) -> str:
    """What csv.writer (QUOTE_MINIMAL) does to a cell, in SQL."""
    text = f"coalesce(({cell})::text, '')"
    return (
        f"CASE WHEN {text} ~ '[\",\\r\\n]' "
        f"THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE {text} END"
    )


def _pg_csv(
    qs: QuerySet[Any], columns: tuple[Column, ...], writer: Any, buffer: io.StringIO
) -> Iterator[str]:
    """Whole CSV lines made by the database; a line whose JSON is not ASCII comes with its cells,
    and Python writes that one (json.dumps escapes what PostgreSQL's JSON text does not)."""
    cells = {f"x{i}": _pg_cell(c, for_json=False) for i, c in enumerate(columns)}
    sql, params = qs.annotate(**cells).values_list(*cells).query.sql_with_params()
    line = " || ',' || ".join(
        f"coalesce((rows.x{i})::text, '')" if c.kind in _NEVER_QUOTED else _csv_quote(f"rows.x{i}")
        for i, c in enumerate(columns)
    )
    json_at = [i for i, c in enumerate(columns) if c.kind == "json"]
    not_ascii = (
        " OR ".join(f"octet_length(rows.x{i}) <> char_length(rows.x{i})" for i in json_at)
        or "false"
    )
    every = ", ".join(f"(rows.x{i})::text" for i in range(len(columns)))
    wrapped = (
        f"SELECT {line} || chr(13) || chr(10), "  # noqa: S608 (our columns; filters are parameters)
        f"CASE WHEN {not_ascii} THEN ARRAY[{every}] END FROM ({sql}) rows"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(wrapped, params)
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            yield "".join(
                text if fix is None else _fixed(fix, json_at, writer, buffer) for text, fix in chunk
            )


def _fixed(cells: list[Any], json_at: list[int], writer: Any, buffer: io.StringIO) -> str:
    buffer.seek(0)
    buffer.truncate()
    writer.writerow(_ascii_json(list(cells), json_at))
    return buffer.getvalue()


def _ascii_json(row: list[Any], json_at: list[int]) -> list[Any]:
    """Python's json.dumps escapes what is not ASCII; PostgreSQL's JSON text does not."""
    for i in json_at:
        if row[i] is not None:
            row[i] = csv_safe(json.dumps(json.loads(row[i].removeprefix("'"))))
    return row


def _pg_jsonl(qs: QuerySet[Any], columns: tuple[Column, ...]) -> Iterator[str]:
    cells = {f"x{i}": _pg_cell(c, for_json=True) for i, c in enumerate(columns)}
    sql, params = qs.annotate(**cells).values_list(*cells).query.sql_with_params()
    renamed = ", ".join(f'rows.x{i} AS "{c.header}"' for i, c in enumerate(columns))
    # The headers are ours and the filters stay parameters: nothing typed reaches the SQL text.
    wrapped = f"SELECT row_to_json(line)::text FROM (SELECT {renamed} FROM ({sql}) rows) line"  # noqa: S608
    with connection.chunked_cursor() as cursor:
        cursor.execute(wrapped, params)
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            yield "\n".join(line for (line,) in chunk) + "\n"
