"""Reads that leave a trace in the audit trail: looking at a person, searching Okta, exporting, and
verifying the chain. Views call these; they never write audit events themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User

from connections import registry
from connections.types import ConnectorError
from offboarding.audit import ChainReport, audit_chain_verify, audit_record, audit_watermark_save
from offboarding.models import AuditEvent
from offboarding.targets import TargetInfo


def record_user_view(*, actor: User, target: TargetInfo, purpose: str, ip: str = "") -> None:
    """Audit that `actor` looked at a person in Okta ("user view" or "new request")."""
    audit_record(
        action=AuditEvent.Action.USER_VIEW,
        actor=actor,
        object_type="okta_user",
        object_id=target.okta_id,
        target=target.login,
        ip=ip,
        details={"purpose": purpose},
    )


@dataclass
class PersonSearch:
    """People found (one row each), the cursor to the next page, or why Okta could not answer."""

    users: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    error: str = ""


def _okta_error_words(exc: ConnectorError, *, expression: bool) -> str:
    if expression and exc.status == 400:
        return f"Okta did not accept the search expression: {exc.message}"
    if exc.code == "not_configured":
        return "Okta is not connected yet, so people cannot be searched. Ask a connection admin."
    return f"Okta could not be reached, so nobody can be searched right now: {exc.message}"


def _row(user: dict[str, Any]) -> dict[str, Any]:
    profile = user.get("profile") or {}
    name = " ".join(p for p in (profile.get("firstName"), profile.get("lastName")) if p)
    return {
        "id": user.get("id", ""),
        "name": name,
        "login": profile.get("login", ""),
        "email": profile.get("email", ""),
        "department": profile.get("department", ""),
        "status": str(user.get("status", "")),
    }


def person_search(
    *,
    actor: User,
    query: str,
    expression: str = "",
    after: str | None = None,
    limit: int = 20,
    ip: str = "",
    typeahead: bool = False,
) -> PersonSearch:
    """Search Okta by words (name, email, login) or by an Okta expression, and audit the search.

    A type-ahead lookup (the first page of a plain word search, sent while the person types) is
    not recorded: the search is recorded once, when it is submitted or when a person is opened
    from its results (`search_record`). Expressions and further pages are always recorded.
    Okta's errors come back in words in `error`, never raised.
    """
    found = PersonSearch()
    try:
        users, found.next_cursor = registry.okta_search_users(
            query="" if expression else query, expression=expression, after=after, limit=limit
        )
        found.users = [_row(u) for u in users]
    except ConnectorError as exc:
        found.error = _okta_error_words(exc, expression=bool(expression))
    if not (typeahead and not expression and not after):
        search_record(
            actor=actor, query=query, expression=expression, ip=ip, failed=bool(found.error)
        )
    return found


def search_record(
    *, actor: User, query: str, expression: str = "", ip: str = "", failed: bool = False
) -> None:
    """Audit one search a person made (USER_SEARCH), with what they searched for."""
    audit_record(
        action=AuditEvent.Action.USER_SEARCH,
        actor=actor,
        ip=ip,
        details={"query": query, "expression": expression, "failed": failed},
    )


def export_record(
    *, actor: User, what: str, fmt: str, filters: dict[str, str], rows: int, ip: str = ""
) -> None:
    """Audit an export: what, in which format, under which filters, how many rows."""
    audit_record(
        action=AuditEvent.Action.EXPORT,
        actor=actor,
        object_type=what,
        ip=ip,
        details={"what": what, "format": fmt, "filters": filters, "rows": rows},
    )


def audit_chain_check(*, actor: User, ip: str = "") -> ChainReport:
    """Verify the whole audit chain, move the verified-up-to mark when it is intact, and record
    the verdict as an event of its own."""
    report = audit_chain_verify()
    audit_watermark_save(report)
    audit_record(
        action=AuditEvent.Action.AUDIT_VERIFIED,
        actor=actor,
        ip=ip,
        details={
            "result": str(report),
            "intact": report.intact,
            "count": report.count,
            "broken_at": report.broken_at,
            "problem": report.problem,
        },
    )
    return report
