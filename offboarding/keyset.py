"""Keyset pagination (no OFFSET) over any ordered queryset, newest first, with bounded windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class KeysetPage:
    """One page of rows, newest first, and whether there are rows beyond either end."""

    rows: list[Any]
    has_newer: bool
    has_older: bool


def _beyond(fields: tuple[str, ...], values: tuple[Any, ...], op: str) -> Q:
    """Rows strictly after `values` in the (fields...) order: lt = older, gt = newer."""
    condition = Q()
    for i, name in enumerate(fields):
        part = Q(**{f"{name}__{op}": values[i]})
        for j in range(i):
            part &= Q(**{fields[j]: values[j]})
        condition |= part
    return condition


# A filtered page first looks among this many rows next to the cursor (in the unfiltered order),
# and only then beyond them: a common filter fills its page from the first few thousand rows of an
# index scan, a rare one is answered by its own index (pg_trgm) beyond the window. Without the split
# the planner, which cannot tell "%person1%" (one row in ten) from "%person4242@%" (one in 100,000),
# either walks the whole index for a rare word or collects every match of a common one.
WINDOW = 20_000


def _fetch(
    qs: QuerySet[Any],
    fields: tuple[str, ...],
    cursor: tuple[Any, ...] | None,
    op: str,
    limit: int,
    base: QuerySet[Any] | None,
) -> list[Any]:
    """Up to `limit` rows of `qs` beyond `cursor` (lt: older, descending; gt: newer, ascending)."""
    order = [f"-{f}" for f in fields] if op == "lt" else list(fields)
    if cursor is not None:
        qs = qs.filter(_beyond(fields, cursor, op))
    qs = qs.order_by(*order)
    if base is None:
        return list(qs[:limit])
    if cursor is not None:
        base = base.filter(_beyond(fields, cursor, op))
    edge = list(base.order_by(*order).values_list(fields[0], flat=True)[WINDOW : WINDOW + 1])
    if not edge:  # fewer than WINDOW rows left: the whole rest is one window
        return list(qs[:limit])
    near, far = ("gte", "lt") if op == "lt" else ("lte", "gt")
    rows = _in_window(qs.filter(**{f"{fields[0]}__{near}": edge[0]})[:limit])
    if len(rows) < limit:
        rows += list(qs.filter(**{f"{fields[0]}__{far}": edge[0]})[: limit - len(rows)])
    return rows


def _in_window(qs: QuerySet[Any]) -> list[Any]:
    """The rows of a window query, read along the ordering index.

    On PostgreSQL bitmap scans are switched off for this one query: the trigram indexes can only be
    read as bitmaps, and the planner, misjudging a common word as rare, would otherwise collect
    every match in the table before sorting, instead of walking the window it is bounded to.
    """
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        return list(qs)
    with transaction.atomic(using=qs.db), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
        rows = list(qs)
        cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])
    return rows


def keyset_page(
    qs: QuerySet[Any],
    *,
    fields: tuple[str, ...],
    older_than: tuple[Any, ...] | None = None,
    newer_than: tuple[Any, ...] | None = None,
    size: int = 50,
    base: QuerySet[Any] | None = None,
) -> KeysetPage:
    """A page of `qs` ordered by `fields` descending, after a cursor; no OFFSET.

    Two queries; with `base` (the same rows unfiltered, when `qs` is filtered) up to six, each
    bounded: see WINDOW.
    """

    def key(row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, f) for f in fields)

    if newer_than is not None:
        rows = _fetch(qs, fields, newer_than, "gt", size + 1, base)
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = bool(rows) and bool(_fetch(qs, fields, key(rows[-1]), "lt", 1, base))
        return KeysetPage(rows, has_newer, has_older)
    rows = _fetch(qs, fields, older_than, "lt", size + 1, base)
    has_older = len(rows) > size
    rows = rows[:size]
    has_newer = (
        older_than is not None
        and bool(rows)
        and bool(_fetch(qs, fields, key(rows[0]), "gt", 1, base))
    )
    return KeysetPage(rows, has_newer, has_older)
