"""Reads for Okta event hooks and policies (issue 14): the hook of a connection, its status for
the Connections page, the policies and the latest events."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet
from django.urls import reverse

from connections import selectors as connection_selectors
from connections.models import Connection
from connections.types import System
from offboarding.models import EventHook, EventPolicy, HookEvent, SyslogCursor


def okta_connection() -> Connection | None:
    """The Okta connection, enabled or not (its hook is set up before it is switched on)."""
    return connection_selectors.connection_get(System.OKTA)


def hook_url(connection: Connection, base_url: str) -> str:
    """The URL Okta calls for this connection's hook."""
    path = reverse("offboarding:okta-hook", kwargs={"connection_id": connection.pk})
    return base_url.rstrip("/") + path


def event_hook_for_connection(connection_id: UUID) -> EventHook | None:
    return (
        EventHook.objects.select_related("connection")
        .filter(connection_id=connection_id, connection__system="okta")
        .first()
    )


@dataclass(frozen=True)
class HookStatus:
    connection: Connection
    hook: EventHook | None
    cursor: SyslogCursor | None


def event_hook_status(connection: Connection) -> HookStatus:
    return HookStatus(
        connection=connection,
        hook=EventHook.objects.filter(connection=connection).first(),
        cursor=SyslogCursor.objects.filter(connection=connection).first(),
    )


def event_policy_list() -> QuerySet[EventPolicy]:
    return EventPolicy.objects.all()


def event_policy_get(pk: int) -> EventPolicy | None:
    return EventPolicy.objects.filter(pk=pk).first()


def hook_event_recent(limit: int = 20) -> list[HookEvent]:
    return list(HookEvent.objects.select_related("action_request").order_by("-id")[:limit])
