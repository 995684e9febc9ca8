"""Reads of connections for pages, commands and the registry."""

from __future__ import annotations

from dataclasses import dataclass

from connections.models import Connection
from connections.types import System


@dataclass(frozen=True)
class SystemRow:
    system: System
    connection: Connection | None

    @property
    def state(self) -> str:
        if self.connection is None:
            return "not configured"
        return "enabled" if self.connection.enabled else "disabled"


def connection_overview() -> list[SystemRow]:
    """One row per system, configured or not, in a fixed order (one query)."""
    by_system = {c.system: c for c in Connection.objects.select_related("updated_by")}
    return [SystemRow(system, by_system.get(system.value)) for system in System]


def connection_get(system: System) -> Connection | None:
    return Connection.objects.filter(system=system.value).first()


def connection_get_enabled(system: System) -> Connection | None:
    return Connection.objects.filter(system=system.value, enabled=True).first()


def connection_enabled_list() -> list[Connection]:
    return list(Connection.objects.filter(enabled=True).order_by("system"))
