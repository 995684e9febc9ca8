"""Reading a bulk file: one person per row (a login or an email), optionally a reason, a ticket and
a `scheduled_for` time. Pure (no Django models, no network), so it can be tested on its own.

What a spreadsheet may hand us: a UTF-8 byte-order mark (or UTF-16 with its mark), `,` `;` or tab
separators, quoted fields, empty lines, a header row or none, mixed case, and cells a spreadsheet
would run as formulas (`=…`). Limits are checked before any work (bytes) and while reading (rows),
and each refusal says what to change.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
MAX_IDENTITY = 254
MAX_REASON = 1000
MAX_TICKET = 100

IDENTITY_HEADERS = ("login", "email", "e-mail", "mail", "user", "username", "upn")
COLUMNS = ("identity", "reason", "ticket", "scheduled_for")
_HEADER_NAMES = {
    **{name: "identity" for name in IDENTITY_HEADERS},
    "reason": "reason",
    "ticket": "ticket",
    "scheduled_for": "scheduled_for",
    "scheduled for": "scheduled_for",
    "when": "scheduled_for",
}
# A login is an Okta login (usually an email); anything with spaces, quotes or control characters,
# or starting like a spreadsheet formula, is not one.
_IDENTITY = re.compile(r"^[^\s\"'<>=+@,;\x00-\x1f\x7f][^\s\"'<>,;\x00-\x1f\x7f]*$")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CsvRejected(ValueError):  # noqa: N818 (a refusal, said in words to the person uploading)
    """The file cannot be read as a whole; `str()` says why and what to do."""


@dataclass(frozen=True)
class ParsedRow:
    line: int  # the row's number in the file, 1-based, counting the header and empty lines
    identity: str  # as written (stripped); `key` is what matching uses
    reason: str = ""
    ticket: str = ""
    scheduled_for: datetime | None = None
    problem: str = ""  # non-empty: the row cannot go on, in words

    @property
    def key(self) -> str:
        return self.identity.casefold()


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ParsedRow]
    separator: str
    header: bool


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark) or UTF-16 with its mark."""
    if len(data) > MAX_BYTES:
        raise CsvRejected(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is "
            f"{MAX_BYTES // 1_048_576} MB. Split it into several batches."
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise CsvRejected(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” (Excel) or UTF-8 and upload again."
        ) from None
    if "\x00" in text:
        raise CsvRejected("The file contains binary data: upload a CSV text file.")
    return text


def _separator(text: str) -> str:
    """`;`, tab or `,`. A login never holds one, so the right one makes the first line's first
    cell a login (or a header name); among those, the one the line uses most outside quotes."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {sep: outside.count(sep) for sep in (";", "\t", ",")}

    def first_cell_fits(sep: str) -> bool:
        cell = _clean(next(csv.reader([first], delimiter=sep), [""])[0] if first else "")
        return bool(_IDENTITY.match(cell)) or cell.casefold() in _HEADER_NAMES

    fitting = [sep for sep in counts if counts[sep] and first_cell_fits(sep)]
    pool = fitting or [sep for sep in counts if counts[sep]]
    return max(pool, key=lambda sep: counts[sep]) if pool else ","


def _clean(cell: str) -> str:
    text = cell.strip()
    # A leading apostrophe is how spreadsheets (and the portal's own exports) mark text.
    if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS):
        text = text[1:]
    return text


def _header_map(cells: list[str]) -> dict[str, int] | None:
    """Column positions when the row is a header (it names an identity column), else None."""
    names = [c.strip().casefold() for c in cells]
    mapping: dict[str, int] = {}
    for pos, name in enumerate(names):
        column = _HEADER_NAMES.get(name)
        if column and column not in mapping:
            mapping[column] = pos
    return mapping if "identity" in mapping else None


def parse_when(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is UTC. ValueError when it is not a time."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _row(line: int, cells: list[str], columns: dict[str, int]) -> ParsedRow:
    def cell(name: str) -> str:
        pos = columns.get(name)
        return _clean(cells[pos]) if pos is not None and pos < len(cells) else ""

    identity, reason, ticket, when = (cell(name) for name in COLUMNS)
    problem = ""
    scheduled: datetime | None = None
    if not identity:
        problem = "no login or email in this row"
    elif len(identity) > MAX_IDENTITY or not _IDENTITY.match(identity):
        problem = "not a login or email"
    elif len(reason) > MAX_REASON:
        problem = f"the reason is longer than {MAX_REASON} characters"
    elif len(ticket) > MAX_TICKET:
        problem = f"the ticket is longer than {MAX_TICKET} characters"
    elif when:
        try:
            scheduled = parse_when(when)
        except ValueError:
            problem = "scheduled_for is not a date and time (use e.g. 2026-12-24T18:00+01:00)"
    return ParsedRow(
        line=line,
        identity=identity[:MAX_IDENTITY],
        reason=reason[:MAX_REASON],
        ticket=ticket[:MAX_TICKET],
        scheduled_for=scheduled,
        problem=problem,
    )


def parse(data: bytes) -> ParsedFile:
    """Every non-empty row of the file. Raises CsvRejected for the file as a whole (size,
    encoding, rows); a single bad row is kept with its `problem` instead."""
    text = decode(data)
    separator = _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    positional = {name: pos for pos, name in enumerate(COLUMNS)}
    columns: dict[str, int] | None = None
    header = False
    rows: list[ParsedRow] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if columns is None:
                columns = _header_map(cells)
                header = columns is not None
                if header:
                    continue
                columns = positional
            if len(rows) >= MAX_ROWS:
                raise CsvRejected(
                    f"The file has more than {MAX_ROWS:,} people; split it into several batches."
                )
            rows.append(_row(reader.line_num, cells, columns))
    except csv.Error as exc:
        raise CsvRejected(f"Line {reader.line_num} cannot be read as CSV ({exc}).") from None
    if not rows:
        raise CsvRejected("The file has no rows with a login or email.")
    return ParsedFile(rows=rows, separator=separator, header=header)
