"""Google Directory users.list: customer or domain, query, maxResults, pageToken (GDIR)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import data
from connections.sandbox.google.errors import google_error, invalid
from connections.sandbox.google.users import USER_READ, user_json
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
QUERY_FIELDS = {"email", "givenname", "familyname", "isadmin", "issuspended"}


def _matcher(app: App, query: str):
    """A test for one person from `field:value` terms (value* is a prefix), or a 400 answer."""
    org, terms = app.org, []
    for term in query.split():
        field, sep, value = term.partition(":")
        field = field.lower()
        if not sep or field not in QUERY_FIELDS or not value:
            return invalid("Invalid Input: query")
        terms.append((field, value.strip("'\"").lower()))

    def text(idx: int, field: str) -> str:
        if field == "email":
            return org.email[idx].lower()
        if field == "givenname":
            return org.first[idx].lower()
        if field == "familyname":
            return org.last[idx].lower()
        if field == "isadmin":
            return str(org.has(idx, data.F_GADMIN)).lower()
        return str(app.state.person(idx).google_suspended).lower()

    def match(idx: int) -> bool:
        for field, value in terms:
            got = text(idx, field)
            if not (got.startswith(value[:-1]) if value.endswith("*") else got == value):
                return False
        return True

    return match


@router.add("GET", "/users", USER_READ, "directory")
def list_users(app: App, req: Request) -> Resp:
    customer, domain = req.arg("customer"), req.arg("domain")
    if not customer and not domain:
        return google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
    if domain and domain != data.DOMAIN:
        return google_error(
            403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED"
        )
    if customer and customer not in ("my_customer", "C03acme01"):
        return google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
    size_text, token = req.arg("maxResults") or "100", req.arg("pageToken") or "0"
    if not size_text.isdigit() or not 1 <= int(size_text) <= 500 or not token.isdigit():
        return invalid(
            "Invalid Input: maxResults" if token.isdigit() else "Invalid Input: pageToken"
        )
    match = _matcher(app, req.arg("query") or "")
    if isinstance(match, Resp):
        return match
    size, start = int(size_text), int(token)
    page: list[dict] = []
    idx = start
    while idx < app.org.n and len(page) < size:
        if app.org.has(idx, data.F_GOOGLE) and match(idx):
            page.append(user_json(app, idx))
        idx += 1
    body: dict = {"kind": "admin#directory#users", "etag": f'"users-{start}-{idx}"', "users": page}
    if idx < app.org.n:
        body["nextPageToken"] = str(idx)
    return Resp(200, body)
