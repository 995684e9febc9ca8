"""Setting up Okta event hooks and their policies (issue 14), for Connection admins; each change
audited (HOOK_CHANGED, POLICY_CHANGED), never with the secret in it."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from connections import registry
from connections.models import Connection
from connections.types import ConnectorError
from offboarding import permissions
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest, NotAllowed
from offboarding.models import AuditEvent, EventHook, EventPolicy
from offboarding.models.hooks import EVENT_TYPES
from offboarding.selectors_hooks import hook_url

_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
_GROUP = re.compile(r"^[0-9A-Za-z]{1,64}$")
POLICY_FIELDS = ("name", "event_type", "okta_group_id", "action", "mode", "active")


def _require_admin(actor: User) -> None:
    if not permissions.can_manage_connections(actor):
        raise NotAllowed("Only Connection admins may change event hooks and their policies.")


def new_hook_secret() -> str:
    return secrets.token_urlsafe(32)


def event_hook_configure(
    *, actor: User | None, connection: Connection, header_name: str, secret: str, ip: str = ""
) -> EventHook:
    """Set the header Okta sends and (when given) a new secret for it. `actor` None: make run."""
    if actor is not None:
        _require_admin(actor)
    header_name = header_name.strip() or "Authorization"
    if not _HEADER.match(header_name):
        raise InvalidRequest("The header name may hold letters, digits and dashes only.")
    if secret and len(secret) < 16:
        raise InvalidRequest("Use a secret of at least 16 characters.")
    with transaction.atomic():
        hook, created = EventHook.objects.select_for_update().get_or_create(connection=connection)
        hook.header_name = header_name
        if secret:
            hook.set_secret(secret)
            hook.secret_set_at = timezone.now()
        hook.save()
        audit_record(
            action=AuditEvent.Action.HOOK_CHANGED,
            actor=actor,
            actor_label="" if actor else "make run",
            obj=hook,
            ip=ip,
            details={"header": header_name, "new_secret": bool(secret), "created": created},
        )
    return hook


def event_hook_register(
    *, actor: User | None, connection: Connection, base_url: str, ip: str = ""
) -> EventHook:
    """Register the hook in Okta (Event Hooks API) and ask Okta to verify it; Okta then calls the
    portal's URL, which must be reachable. Raises InvalidRequest in words."""
    if actor is not None:
        _require_admin(actor)
    hook = EventHook.objects.filter(connection=connection).first()
    if hook is None or not hook.has_secret:
        raise InvalidRequest("Set the hook's secret first.")
    url = hook_url(connection, base_url)
    try:
        created = registry.okta_event_hook_create(
            name="Offboarding portal",
            uri=url,
            header_name=hook.header_name,
            secret=hook.decrypt_secret(),
            event_types=list(EVENT_TYPES),
        )
        okta_id = str(created.get("id", ""))
        verified = registry.okta_event_hook_verify(okta_id).get("verificationStatus", "")
    except ConnectorError as exc:
        raise InvalidRequest(f"Okta did not register the hook: {exc.message}") from exc
    with transaction.atomic():
        EventHook.objects.filter(pk=hook.pk).update(
            okta_hook_id=okta_id, registered_at=timezone.now()
        )
        audit_record(
            action=AuditEvent.Action.HOOK_CHANGED,
            actor=actor,
            actor_label="" if actor else "make run",
            obj=hook,
            ip=ip,
            details={"registered": okta_id, "url": url, "verification": verified},
        )
    hook.refresh_from_db()
    return hook


def _clean_policy(data: dict[str, Any]) -> dict[str, Any]:
    clean = {k: data[k] for k in POLICY_FIELDS if k in data}
    clean["name"] = str(clean.get("name", "")).strip()[:120]
    clean["okta_group_id"] = str(clean.get("okta_group_id", "")).strip()
    if not clean["name"]:
        raise InvalidRequest("Give the policy a name.")
    if clean.get("event_type") not in EVENT_TYPES:
        raise InvalidRequest("Choose one of the event types the portal subscribes to.")
    if clean.get("action") not in EventPolicy.Action.values:
        raise InvalidRequest("Choose an action.")
    if clean.get("mode") not in EventPolicy.Mode.values:
        raise InvalidRequest("Choose an approval mode.")
    if clean["mode"] == EventPolicy.Mode.AUTOMATIC and clean["action"] != "reset_sessions":
        raise InvalidRequest(
            "Only reset sessions may run automatically; offboarding needs approval."
        )
    if clean["okta_group_id"] and not _GROUP.match(clean["okta_group_id"]):
        raise InvalidRequest("An Okta group id holds letters and digits only (e.g. 00g1abc…).")
    if clean["event_type"] == "group.user_membership.add" and not clean["okta_group_id"]:
        raise InvalidRequest("A group-membership policy needs the Okta group it watches.")
    clean["active"] = bool(clean.get("active"))
    return clean


def event_policy_save(
    *, actor: User, data: dict[str, Any], policy_id: int | None = None, ip: str = ""
) -> EventPolicy:
    """Create or change a policy; audited with what it says now."""
    _require_admin(actor)
    clean = _clean_policy(data)
    with transaction.atomic():
        if policy_id is None:
            policy = EventPolicy.objects.create(**clean)
        else:
            policy = EventPolicy.objects.select_for_update().get(pk=policy_id)
            for key, value in clean.items():
                setattr(policy, key, value)
            policy.save()
        audit_record(
            action=AuditEvent.Action.POLICY_CHANGED,
            actor=actor,
            obj=policy,
            ip=ip,
            details={"change": "created" if policy_id is None else "updated", **clean},
        )
    return policy


def event_policy_delete(*, actor: User, policy_id: int, ip: str = "") -> None:
    _require_admin(actor)
    with transaction.atomic():
        policy = EventPolicy.objects.select_for_update().get(pk=policy_id)
        audit_record(
            action=AuditEvent.Action.POLICY_CHANGED,
            actor=actor,
            obj=policy,
            ip=ip,
            details={"change": "deleted", "name": policy.name, "event_type": policy.event_type},
        )
        policy.delete()
