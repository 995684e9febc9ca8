"""Okta GET /api/v1/logs: the System Log as Okta serves it (CONTRACTS.md §1.7).

A polling request (no `until`) reads in persistence order and always sends a `next` link, even on
an empty page; a bounded one (`since` and `until`) filters by `published` and ends without one.
`after` is an opaque cursor; `since` and `after` cannot be sent together. `filter` takes
`eventType`, `target.id`, `actor.id` and `outcome.result` with `eq`/`sw`, joined by `and`/`or`.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connections.sandbox.okta import events
from connections.sandbox.okta.errors import okta_error
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
READ = ("okta.logs.read",)
_CLAUSE = re.compile(r'^\s*([A-Za-z.]+)\s+(eq|sw)\s+"([^"]*)"\s*$')
_FIELDS = {"eventType", "target.id", "actor.id", "outcome.result"}


def _bad(summary: str) -> Resp:
    return okta_error(400, "E0000053", "Invalid property.", [summary])


def _time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _values(event: dict[str, Any], field: str) -> list[str]:
    if field == "target.id":
        return [str(t.get("id")) for t in event.get("target") or []]
    if field == "actor.id":
        return [str((event.get("actor") or {}).get("id"))]
    if field == "outcome.result":
        return [str((event.get("outcome") or {}).get("result"))]
    return [str(event.get(field))]


def _matcher(expression: str) -> Any:
    """A predicate for `filter`, or a string saying what is wrong."""
    alternatives = []
    for part in re.split(r"\s+or\s+", expression.strip()):
        clauses = []
        for clause in re.split(r"\s+and\s+", part):
            found = _CLAUSE.match(clause)
            if not found or found.group(1) not in _FIELDS:
                return f"filter: unsupported expression {clause.strip()!r}"
            clauses.append(found.groups())
        alternatives.append(clauses)

    def match(event: dict[str, Any]) -> bool:
        return any(
            all(
                any(v == want if op == "eq" else v.startswith(want) for v in _values(event, f))
                for f, op, want in clauses
            )
            for clauses in alternatives
        )

    return match


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def _position(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text[1:]) if text.startswith("p") else None
    except (ValueError, UnicodeDecodeError):
        return None


@router.add("GET", "/logs", READ, "logs")
def list_logs(app: App, req: Request) -> Resp:
    since, until, after = req.arg("since"), req.arg("until"), req.arg("after")
    expression = req.arg("filter") or ""
    try:
        limit = max(0, min(int(req.arg("limit") or 100), 1000))
    except ValueError:
        return okta_error(400, "E0000001", "Api validation failed: limit", ["limit: not a number"])
    if since and after:
        return okta_error(400, "E0000001", "Api validation failed: since and after together")
    match = _matcher(expression) if expression else (lambda event: True)
    if isinstance(match, str):
        return okta_error(400, "E0000031", "Invalid search criteria.", [match])
    now = datetime.now(UTC)
    start = _time(since) if since else now - timedelta(days=7)
    end = _time(until) if until else None
    if start is None or (until and end is None):
        return okta_error(400, "E0000001", "Api validation failed: since/until", ["not ISO 8601"])
    if start < now - timedelta(days=180):
        return _bad("since: more than 180 days back")
    position = _position(after) if after else 0
    if position is None:
        return okta_error(400, "E0000001", "Api validation failed: after", ["invalid cursor"])
    store = events.store(app)
    with store.lock:
        logged = list(enumerate(store.events))
    page: list[dict[str, Any]] = []
    last = position
    for i, event in logged[position:]:
        published = _time(event["published"]) or now
        if published < start or (end is not None and published > end) or not match(event):
            last = i + 1
            continue
        if len(page) == limit:
            break
        page.append(event)
        last = i + 1
    return _answer(req, page, last, more=last < len(logged), bounded=end is not None)


def _answer(req: Request, page: list, last: int, *, more: bool, bounded: bool) -> Resp:
    base = f"{req.base_url}/okta/api/v1/logs"
    keep = {k: v[0] for k, v in req.query.items() if k not in ("after", "since") and v}
    links = [f'<{req.base_url}{req.raw_path}>; rel="self"']
    if not bounded or more:  # a polling request always has a next link
        nxt = urlencode({**keep, "after": _cursor(last)})
        links.append(f'<{base}?{nxt}>; rel="next"')
    return Resp(200, page, headers={"Link": ", ".join(links)})
