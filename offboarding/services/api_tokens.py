"""API tokens: created and revoked by Connection admins (or the command line), and every call made
with one recorded in the audit trail under the token's name.

A token is shown once, when it is made; only its SHA-256 is kept, with a public prefix to find it.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from offboarding import permissions
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest, InvalidTransition, NotAllowed
from offboarding.models import ApiToken, AuditEvent, Delegation
from offboarding.models.api import TOKEN_MARK, token_hash
from offboarding.roles import Role

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def _new_token() -> tuple[str, str]:
    prefix = TOKEN_MARK + secrets.token_hex(4)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def parse_scopes(scopes: list[str] | str) -> list[str]:
    """Scopes as a list or comma-separated; refuses unknown ones and an empty set."""
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    chosen = sorted({s.strip() for s in items if s.strip()})
    unknown = [s for s in chosen if s not in ApiToken.Scope.values]
    if unknown:
        raise InvalidRequest(
            f"Unknown scope “{unknown[0]}”: choose from {', '.join(ApiToken.Scope.values)}."
        )
    if not chosen:
        raise InvalidRequest("Give the token at least one scope.")
    return chosen


def _checked(name: str, team: Group, expires_at: datetime | None) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidRequest(
            "A token's name is 1–80 letters, digits, dots, dashes or underscores, e.g. hr-system."
        )
    username = f"{permissions.API_USERNAME_PREFIX}{name}"
    if (
        ApiToken.objects.filter(name=name).exists()
        or User.objects.filter(username=username).exists()
    ):
        raise InvalidRequest(f"A token named “{name}” exists already: choose another name.")
    if team.name in Role.values or not Delegation.objects.filter(team=team, active=True).exists():
        raise InvalidRequest(
            f"“{team.name}” is not the team of an active delegation: a token may do only what "
            "a delegation lets its team do."
        )
    if expires_at is not None and (timezone.is_naive(expires_at) or expires_at <= timezone.now()):
        raise InvalidRequest("The expiry must be a time in the future, with a time zone.")
    return name


def api_token_create(
    *,
    actor: User | None,
    name: str,
    team: Group,
    scopes: list[str] | str,
    expires_at: datetime | None = None,
    actor_label: str = "",
    ip: str = "",
) -> tuple[ApiToken, str]:
    """Make a token and its service user; returns the token row and the token itself (shown once,
    never stored). `actor` None is the command line (say who in `actor_label`).

    Raises NotAllowed / InvalidRequest.
    """
    if actor is not None and not permissions.can_manage_api_tokens(actor):
        raise NotAllowed("Only Connection admins may create API tokens.")
    chosen = parse_scopes(scopes)
    with transaction.atomic():
        name = _checked(name, team, expires_at)
        service_user = User.objects.create_user(
            username=f"{permissions.API_USERNAME_PREFIX}{name}", email="", password=None
        )
        service_user.groups.set([team])
        prefix, raw = _new_token()
        token = ApiToken.objects.create(
            name=name,
            prefix=prefix,
            token_hash=token_hash(raw),
            team=team,
            scopes=chosen,
            service_user=service_user,
            created_by=actor,
            expires_at=expires_at,
        )
        _audit_change(token, "created", actor=actor, actor_label=actor_label, ip=ip)
    return token, raw


def api_token_revoke(*, token_id: int, actor: User, ip: str = "") -> ApiToken:
    """Revoke a token at once: it and its service user stop working. Raises NotAllowed /
    InvalidTransition (already revoked)."""
    if not permissions.can_manage_api_tokens(actor):
        raise NotAllowed("Only Connection admins may revoke API tokens.")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token_id)
        if token.revoked_at is not None:
            raise InvalidTransition(f"The token “{token.name}” is already revoked.")
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        User.objects.filter(pk=token.service_user_id).update(is_active=False)
        _audit_change(token, "revoked", actor=actor, ip=ip)
    return token


def _audit_change(
    token: ApiToken, change: str, *, actor: User | None, actor_label: str = "", ip: str = ""
) -> None:
    audit_record(
        action=AuditEvent.Action.API_TOKEN_CHANGED,
        actor=actor,
        actor_label=actor_label,
        obj=token,
        target=token.name,
        ip=ip,
        details={
            "change": change,
            "name": token.name,
            "prefix": token.prefix,
            "team": token.team.name,
            "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )


def api_call_record(
    *, token: ApiToken, method: str, path: str, status: int, ip: str = "", request_id: str = ""
) -> None:
    """Audit one call made with a token (API_CALL, under the token's name) and note its last use."""
    now = timezone.now()
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip[:45])
        audit_record(
            action=AuditEvent.Action.API_CALL,
            actor=token.service_user,
            actor_label=f"{permissions.API_USERNAME_PREFIX}{token.name}",
            object_type="api_token",
            object_id=token.pk,
            target=token.name,
            ip=ip,
            details={
                "api_client": token.name,
                "method": method,
                "path": path[:300],
                "status": status,
                "request_id": request_id,
            },
        )
