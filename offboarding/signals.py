"""Signal receivers that write audit events: sign-in, sign-in failure, sign-out, connection change.

Receivers only record; they decide nothing. Never a password or a secret.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from connections.signals import connection_changed
from offboarding.audit import audit_record
from offboarding.models import AuditEvent

_LOGIN_KEYS = ("username", "login", "email")


def client_ip(request: HttpRequest | None) -> str:
    """The client's address as allauth sees it (X-Forwarded-For only from trusted proxies)."""
    if request is None or not hasattr(request, "META"):
        return ""
    try:
        return str(get_adapter(request).get_client_ip(request))[:45]
    except PermissionDenied:
        return ""


def on_user_logged_in(
    sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any
) -> None:
    audit_record(
        action=AuditEvent.Action.SIGN_IN,
        actor=user,
        obj=user,
        object_type="user",
        ip=client_ip(request),
    )


def on_user_logged_out(
    sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any
) -> None:
    if user is None:
        return
    audit_record(action=AuditEvent.Action.SIGN_OUT, actor=user, ip=client_ip(request))


def on_user_login_failed(
    sender: Any,
    credentials: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    """Record who tried (the login name given), never the password."""
    credentials = credentials or {}
    tried = next((str(credentials[k]) for k in _LOGIN_KEYS if credentials.get(k)), "")
    audit_record(
        action=AuditEvent.Action.SIGN_IN_FAILED,
        actor_label=tried[:254],
        ip=client_ip(request),
        details={"login": tried[:254]},
    )


def on_connection_changed(
    sender: Any,
    connection: Any = None,
    actor: User | None = None,
    action: str = "",
    changed_fields: Any = (),
    **kwargs: Any,
) -> None:
    """A connection was created, edited, tested or deleted. Field names only, never values."""
    audit_record(
        action=AuditEvent.Action.CONNECTION_CHANGED,
        actor=actor,
        object_type="connection",
        object_id=getattr(connection, "pk", "") or "",
        target=str(connection)[:254] if connection is not None else "",
        details={
            "change": str(action),
            "system": str(getattr(connection, "system", "") or getattr(connection, "kind", "")),
            "fields": sorted(str(f) for f in (changed_fields or ())),
        },
    )


def connect_all() -> None:
    user_logged_in.connect(on_user_logged_in, dispatch_uid="offboarding.audit.sign_in")
    user_logged_out.connect(on_user_logged_out, dispatch_uid="offboarding.audit.sign_out")
    user_login_failed.connect(on_user_login_failed, dispatch_uid="offboarding.audit.sign_in_failed")
    connection_changed.connect(on_connection_changed, dispatch_uid="offboarding.audit.connection")
