"""What an API token does: look a person up, and make a request through the same service (and so
the same checks: scope, protection, duplicates, four-eyes) as the portal's form.

The token acts as its service user (`ApiToken.service_user`): a member of the token's team only,
with no role, so it may request what the team may and can never approve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connections import registry
from connections.types import ConnectorError
from offboarding.exceptions import InvalidRequest, OutOfScope, TargetLookupFailed
from offboarding.models import ActionRequest, ApiToken
from offboarding.services.reads import record_user_view
from offboarding.services.submit import action_request_submit
from offboarding.targets import TargetInfo, delegations_for, protection_check, target_lookup

# What a person is looked up by: an Okta id, a login or an email (never an Okta expression).
_PERSON = re.compile(r"^[A-Za-z0-9@._+'-]{1,254}$")


@dataclass(frozen=True)
class PersonFound:
    target: TargetInfo
    allowed_actions: list[str]


def _by_email(email: str) -> TargetInfo:
    try:
        users, _ = registry.okta_search_users(expression=f'profile.email eq "{email}"', limit=2)
    except ConnectorError as exc:
        raise TargetLookupFailed(
            f"Okta could not be searched: {exc.message}", retryable=exc.retryable
        ) from exc
    matches = [u for u in users if str((u.get("profile") or {}).get("email", "")).lower() == email]
    if len(matches) != 1:
        raise TargetLookupFailed(f"Okta has no single user “{email}”.", retryable=False)
    return target_lookup(str(matches[0]["id"]))


def person_resolve(person: str) -> TargetInfo:
    """The person by Okta id or login (one read), else by email (a search). Raises
    InvalidRequest (not a login, email or id) / TargetLookupFailed (not found, Okta down)."""
    person = (person or "").strip()
    if not _PERSON.match(person):
        raise InvalidRequest("Give the person's Okta id, login or email.")
    try:
        return target_lookup(person)
    except TargetLookupFailed as exc:
        if exc.retryable or "@" not in person:
            raise
    return _by_email(person.lower())


def api_person_lookup(*, token: ApiToken, person: str, ip: str = "") -> PersonFound:
    """A person the token's team may act on, with the actions it may request for them; audited as
    a USER_VIEW by the token. Raises ProtectedTarget / OutOfScope / TargetLookupFailed /
    InvalidRequest."""
    target = person_resolve(person)
    protection_check(target)
    allowed = [
        kind
        for kind in ActionRequest.Kind.values
        if delegations_for(user=token.service_user, kind=kind, target=target)
    ]
    if not allowed:
        raise OutOfScope(f"No delegation lets this token's team act on {target.login}.")
    record_user_view(actor=token.service_user, target=target, purpose="api lookup", ip=ip)
    return PersonFound(target=target, allowed_actions=allowed)


def api_request_create(
    *,
    token: ApiToken,
    person: str,
    kind: str,
    systems: list[str],
    options: dict[str, Any] | None,
    reason: str,
    ticket: str = "",
    scheduled_for: datetime | None = None,
    ip: str = "",
    confirm_repeat: bool = False,
) -> ActionRequest:
    """Submit a request as the token (origin "api", the token's name as origin_detail). It waits
    for a person's approval unless a delegation says otherwise, like any other.

    Raises what `action_request_submit` raises (DuplicateRequest names the open twin)."""
    person = (person or "").strip()
    if not _PERSON.match(person):
        raise InvalidRequest("Give the person's Okta id, login or email.")
    submit: dict[str, Any] = {
        "requester": token.service_user,
        "kind": kind,
        "systems": systems,
        "options": options,
        "reason": reason,
        "ticket": ticket,
        "scheduled_for": scheduled_for,
        "ip": ip,
        "origin": ActionRequest.Origin.API,
        "origin_detail": token.name,
        "confirm_repeat": confirm_repeat,
    }
    try:  # an Okta id or login: one read, inside the submit
        return action_request_submit(target_okta_id=person, **submit)
    except TargetLookupFailed as exc:
        if exc.retryable or "@" not in person:
            raise
    return action_request_submit(target_okta_id=_by_email(person.lower()).okta_id, **submit)
