"""One package per system: connections/providers/<system>/ exposes PROVIDER, all the portal knows.

The systems themselves are listed once, in `connections.types.System`; a member's value names its
package here (System.ZOOM = "zoom" → connections/providers/zoom/). Packages are imported on first
use, so that modules the clients import (types, URL policy, forms) may look providers up too.
"""

from __future__ import annotations

import functools
import importlib

from django.core.exceptions import ImproperlyConfigured

from connections.providers.provider import Effect, Operation, Provider
from connections.types import System

__all__ = ["Effect", "Operation", "Provider", "all_providers", "provider_for"]


@functools.cache
def provider_for(system: System | str) -> Provider:
    """The provider of one system; ValueError for a value that is not a System."""
    system = System(system)
    module = importlib.import_module(f"{__name__}.{system.value}")
    provider = getattr(module, "PROVIDER", None)
    if not isinstance(provider, Provider) or provider.system != system:
        raise ImproperlyConfigured(
            f"connections/providers/{system.value}/ must define PROVIDER for {system.label}."
        )
    return provider


def all_providers() -> tuple[Provider, ...]:
    """Every system's provider, in the order of `System`."""
    return tuple(provider_for(system) for system in System)
