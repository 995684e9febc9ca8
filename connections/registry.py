"""The only module the step runner imports: a system's operations, run through its provider's client."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import httpx

from connections import selectors
from connections.exceptions import SecretUnavailable
from connections.models import Connection
from connections.providers import provider_for
from connections.providers.http import ClientConfig, ProviderClient
from connections.providers.okta.client import OktaClient
from connections.types import AccountState, ConnectorError, OperationResult, System, Target

# Tests set this to an httpx.MockTransport; None means the real network.
transport: httpx.BaseTransport | None = None
_clients: dict[tuple[Any, ...], ProviderClient] = {}
_clients_lock = threading.Lock()


def client_config(connection: Connection) -> ClientConfig:
    """Everything a client needs; decrypts the secret (raises SecretUnavailable)."""
    urls = provider_for(connection.system).endpoints(connection.settings)
    return ClientConfig(
        connection_id=str(connection.pk),
        secret_version=connection.secret_version,
        api_base_url=urls.api_base_url,
        token_url=urls.token_url,
        settings=dict(connection.settings),
        secret=connection.decrypt_secret(),
        extra_hosts=tuple(connection.settings.get("custom_domains") or ()),
    )


def client_for(connection: Connection) -> ProviderClient:
    """A client for this connection, reused (keep-alive) until the connection changes."""
    key = (connection.pk, connection.secret_version, connection.updated_at, id(transport))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            for old_key in [k for k in _clients if k[0] == connection.pk]:
                _clients.pop(old_key).close()
            config = client_config(connection)
            client = provider_for(connection.system).client_class(config, transport=transport)
            _clients[key] = client
    return client


def reset_clients() -> None:
    """Close and forget every cached client (tests, key rotation)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def _enabled_client(system: System) -> tuple[Connection, ProviderClient]:
    connection = selectors.connection_get_enabled(system)
    if connection is None:
        raise ConnectorError(
            f"{system.label}: no enabled connection is configured.",
            system=system.value,
            code="not_configured",
        )
    try:
        return connection, client_for(connection)
    except SecretUnavailable as exc:
        raise ConnectorError(
            f"{system.label}: {exc}", system=system.value, code="secret_unavailable"
        ) from None


def identity_attribute(system: System, connection: Connection) -> str:
    default = provider_for(system).identity_attribute
    return str(connection.settings.get("identity_attribute") or default)


def _account_key(system: System, connection: Connection, target: Target) -> str:
    attribute = identity_attribute(system, connection)
    value = target.okta_id if attribute == "id" else target.attribute(attribute)
    if not value:
        raise ConnectorError(
            f"{system.label}: the person's Okta profile has no “{attribute}”, "
            "so their account here cannot be found.",
            system=system.value,
            code="no_identity",
        )
    return value


# --- the runner's interface ------------------------------------------------------------------
def run_operation(
    system: System,
    operation: str,
    *,
    target: Target,
    options: Mapping[str, Any] | None = None,
) -> OperationResult:
    """Run one operation for the person; raises ConnectorError (not_configured when disabled)."""
    system = System(system)
    found = provider_for(system).operation(operation)
    if found is None:
        raise ConnectorError(
            f"{system.label}: unknown operation “{operation}”.",
            system=system.value,
            code="unknown_operation",
        )
    connection, client = _enabled_client(system)
    return found.run(client, _account_key(system, connection, target), options or {})


def read_account(system: System, *, target: Target) -> AccountState:
    """A live read of the person's account in this system (for the pre-flight plan)."""
    system = System(system)
    connection, client = _enabled_client(system)
    return client.account_state(_account_key(system, connection, target))


def concurrency_limit(system: System) -> int:
    """How many calls to this system may run at once."""
    system = System(system)
    connection = selectors.connection_get(system)
    if connection is not None and connection.max_concurrency:
        return int(connection.max_concurrency)
    return provider_for(system).defaults.max_concurrency


def _okta() -> OktaClient:
    _, client = _enabled_client(System.OKTA)
    assert isinstance(client, OktaClient)
    return client


def okta_get_user(user_id_or_login: str) -> dict:
    """Raw Okta user JSON without credentials; ConnectorError (status 404) when absent."""
    return _okta().get_user(user_id_or_login)


def okta_user_groups(user_id: str) -> list[dict]:
    """The user's groups as {id, name, type}."""
    return [
        {"id": g.get("id"), "name": (g.get("profile") or {}).get("name", ""), "type": g.get("type")}
        for g in _okta().user_groups(user_id)
    ]


def okta_user_factors(user_id: str) -> list[dict]:
    """The user's enrolled authenticators as {type, provider, status} (issue 16: person page)."""
    return [
        {
            "type": str(f.get("factorType", "")),
            "provider": str(f.get("provider", "")),
            "status": str(f.get("status", "")),
        }
        for f in _okta().user_factors(user_id)
    ]


def okta_user_apps(user_id: str) -> list[str]:
    """The labels of the apps assigned to the user (issue 16: person page)."""
    return [str(a.get("label") or a.get("appName") or "") for a in _okta().user_app_links(user_id)]


def okta_search_groups(*, name: str, limit: int = 20) -> list[dict]:
    """Okta groups whose name starts with `name`, as {id, name, type} (issue 16: group picker)."""
    return [
        {"id": g.get("id"), "name": (g.get("profile") or {}).get("name", ""), "type": g.get("type")}
        for g in _okta().search_groups(name=name, limit=limit)
    ]


def okta_search_users(
    *, query: str = "", expression: str = "", after: str | None = None, limit: int = 20
) -> tuple[list[dict], str | None]:
    """Users matching a name/email prefix or a search expression, and the next-page cursor."""
    return _okta().search_users(query=query, expression=expression, after=after, limit=limit)
