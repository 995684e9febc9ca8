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


# A filtered page first walks this many rows next to the cursor (in the unfiltered order, along the
# ordering index). A common filter fills its page there. A filter that matched a few rows there walks
# on as far as its density says a page needs (up to MAX_WALK rows); one that matched none, or would
# need more, is answered beyond by its own index (pg_trgm, or a b-tree). Left alone, the planner,
# which cannot tell "%person1%" (one row in ten) from "%person4242@%" (one in 100,000), either walks
# the whole index for a rare word or collects every match of a common one before sorting.
WINDOW = 5_000
MAX_WALK = 50_000


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
    leading = base.order_by(*order).values_list(fields[0], flat=True)
    near, far = (f"{fields[0]}__gte", f"{fields[0]}__lt")
    if op == "gt":
        near, far = (f"{fields[0]}__lte", f"{fields[0]}__gt")
    rows: list[Any] = []
    walked, span, rest = 0, WINDOW, qs
    while span <= MAX_WALK:
        edge = list(leading[walked + span : walked + span + 1])
        if not edge:  # fewer rows than the window left: walk them all
            return rows + _read(rest[: limit - len(rows)], plan_off="enable_bitmapscan")
        window = rest.filter(**{near: edge[0]})
        rows += _read(window[: limit - len(rows)], plan_off="enable_bitmapscan")
        if len(rows) >= limit:
            return rows
        walked, rest = walked + span, rest.filter(**{far: edge[0]})
        # Rows the page still needs at the density seen so far, with room to spare; none seen: stop.
        span = 2 * walked * (limit - len(rows)) // len(rows) if rows else MAX_WALK + 1
    return rows + _read(rest[: limit - len(rows)], plan_off="enable_indexscan")


def _read(qs: QuerySet[Any], *, plan_off: str) -> list[Any]:
    """The rows of `qs`, with one PostgreSQL planner method (enable_bitmapscan or
    enable_indexscan) switched off for this query only; elsewhere simply the rows.

    Inside the window, bitmap scans are off: the trigram indexes can only be read as bitmaps, and
    the planner, taking a common word for a rare one, would collect every match in the table before
    sorting instead of walking the few thousand rows the window holds. Beyond it, plain index scans
    are off: what is left is rare near the cursor, and walking the ordering index through the whole
    table to find it costs more than collecting its matches from the trigram index and sorting them.
    """
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        return list(qs)
    with transaction.atomic(using=qs.db), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s), set_config(%s, 'off', true)", [plan_off] * 2)
        (before, _) = cursor.fetchone()
        rows = list(qs)
        cursor.execute("SELECT set_config(%s, %s, true)", [plan_off, before])
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
