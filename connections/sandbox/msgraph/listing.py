"""Microsoft Graph GET /users: $top, $select, $filter (simple forms), $count, @odata.nextLink."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from connections.sandbox import data
from connections.sandbox.msgraph.errors import bad_request, graph_error
from connections.sandbox.msgraph.users import ALL_FIELDS, DEFAULT_FIELDS, all_fields
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from collections.abc import Callable

    from connections.sandbox.app import App

router = Router()
MAX_TOP = 999
_EQ = re.compile(r"^(\w+) eq (?:'((?:[^']|'')*)'|(true|false))$")
_STARTS = re.compile(r"^startswith\((\w+),\s*'((?:[^']|'')*)'\)$")
FILTERABLE = {"id", "userPrincipalName", "mail", "displayName", "givenName", "surname"}
FILTERABLE_BOOL = {"accountEnabled"}


def unsupported(message: str) -> Resp:
    return graph_error(400, "Request_UnsupportedQuery", message)


def _filter(expression: str) -> Callable[[dict], bool] | Resp:
    """A predicate for one `eq` or `startswith` clause, or clauses joined by `and`."""
    tests = []
    for clause in re.split(r"\s+and\s+", expression.strip()):
        eq, starts = _EQ.match(clause.strip()), _STARTS.match(clause.strip())
        if eq and (eq.group(1) in FILTERABLE or eq.group(1) in FILTERABLE_BOOL):
            name = eq.group(1)
            value: object = (
                eq.group(3) == "true" if eq.group(3) else (eq.group(2) or "").replace("''", "'")
            )
            if (name in FILTERABLE_BOOL) != isinstance(value, bool):
                return bad_request(f"Invalid filter clause: {clause}")
            tests.append(lambda u, n=name, v=value: _same(u.get(n), v))
        elif starts and starts.group(1) in FILTERABLE:
            name, prefix = starts.group(1), starts.group(2).replace("''", "'").lower()
            tests.append(lambda u, n=name, p=prefix: str(u.get(n) or "").lower().startswith(p))
        else:
            return unsupported(f"Unsupported or invalid query filter clause specified: {clause}")
    return lambda user: all(test(user) for test in tests)


def _same(got: object, want: object) -> bool:
    if isinstance(want, str):
        return str(got or "").lower() == want.lower()
    return got == want


@router.add("GET", "/users", (), "users")
def list_users(app: App, req: Request) -> Resp:
    """One page of users; the default projection unless $select names the properties."""
    eventual = req.headers.get("consistencylevel", "").lower() == "eventual"
    if (req.arg("$search") or req.arg("$orderby")) and not eventual:
        return bad_request(
            "Request with $search or $orderby query parameter only works with "
            "advanced query capabilities: add ConsistencyLevel: eventual."
        )
    if req.arg("$search"):
        return unsupported("$search is not supported by this sandbox.")
    top_text = req.arg("$top") or "100"
    if not top_text.isdigit() or not 1 <= int(top_text) <= MAX_TOP:
        return bad_request(
            f"Invalid page size specified: '{top_text}'. Must be between 1 and {MAX_TOP} inclusive."
        )
    select = [s.strip() for s in (req.arg("$select") or "").split(",") if s.strip()]
    unknown = [s for s in select if s not in ALL_FIELDS]
    if unknown:
        return bad_request(
            f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.user'."
        )
    predicate = _filter(req.arg("$filter") or "") if req.arg("$filter") else (lambda user: True)
    if isinstance(predicate, Resp):
        return predicate
    skip = req.arg("$skiptoken") or "0"
    if not skip.isdigit():
        return bad_request("Invalid $skiptoken.")
    top, idx = int(top_text), int(skip)
    page: list[dict] = []
    chosen = select or list(DEFAULT_FIELDS)
    while idx < app.org.n and len(page) < top:
        if not app.org.has(idx, data.F_NOGRAPH):
            fields = all_fields(app, idx)
            if predicate(fields):
                page.append({k: fields[k] for k in chosen})
        idx += 1
    base = f"{req.base_url}/graph/v1.0"
    context = f"{base}/$metadata#users" + (f"({','.join(select)})" if select else "")
    body: dict = {"@odata.context": context}
    if req.arg("$count") == "true":
        if not eventual:
            return bad_request("$count requires the ConsistencyLevel: eventual header.")
        body["@odata.count"] = len(page) if idx >= app.org.n else app.org.n
    body["value"] = page
    if idx < app.org.n:
        kept = [(k, v[0]) for k, v in sorted(req.query.items()) if k != "$skiptoken" and v]
        params = urlencode([*kept, ("$skiptoken", str(idx))], quote_via=quote, safe="$,'()")
        body["@odata.nextLink"] = f"{base}/users?{params}"
    return Resp(200, body)
