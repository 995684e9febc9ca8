"""The only module the step runner imports: operations per system, run through the right client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from connections import selectors
from connections.clients.base import ClientConfig, ProviderClient
from connections.clients.google_workspace import GoogleWorkspaceClient
from connections.clients.msgraph import MicrosoftGraphClient
from connections.clients.okta import OktaClient
from connections.clients.zoom import ZoomClient
from connections.exceptions import SecretUnavailable
from connections.models import DEFAULTS, Connection
from connections.types import AccountState, ConnectorError, OperationResult, System, Target

CLIENT_CLASSES: dict[System, type[ProviderClient]] = {
    System.OKTA: OktaClient,
    System.GOOGLE: GoogleWorkspaceClient,
    System.ZOOM: ZoomClient,
    System.MSGRAPH: MicrosoftGraphClient,
}
DEFAULT_IDENTITY_ATTRIBUTE: dict[System, str] = {
    System.OKTA: "id",
    System.GOOGLE: "email",
    System.ZOOM: "email",
    System.MSGRAPH: "login",
}

Runner = Callable[[Any, str, Mapping[str, Any]], OperationResult]


def _opt(options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")


OPERATIONS: dict[System, dict[str, Runner]] = {
    System.OKTA: {
        "suspend": lambda c, who, o: c.suspend_user(who),
        "unsuspend": lambda c, who, o: c.unsuspend_user(who),
        "clear_sessions": lambda c, who, o: c.clear_sessions(
            who,
            oauth_tokens=_opt(o, "oauth_tokens", True),
            forget_devices=_opt(o, "forget_devices", True),
        ),
        "reset_factors": lambda c, who, o: c.reset_factors(who),
        "remove_from_groups": lambda c, who, o: c.remove_from_groups(who),
        "revoke_grants": lambda c, who, o: c.revoke_grants(who),
        "deactivate": lambda c, who, o: c.deactivate_user(who),
    },
    System.GOOGLE: {
        "suspend": lambda c, who, o: c.suspend_user(who),
        "unsuspend": lambda c, who, o: c.unsuspend_user(who),
        "sign_out": lambda c, who, o: c.sign_out(who),
        "revoke_oauth_tokens": lambda c, who, o: c.revoke_oauth_tokens(who),
        "delete_app_passwords": lambda c, who, o: c.delete_app_passwords(who),
    },
    System.MSGRAPH: {
        "disable": lambda c, who, o: c.disable_user(who),
        "enable": lambda c, who, o: c.enable_user(who),
        "revoke_sessions": lambda c, who, o: c.revoke_sessions(who),
    },
    System.ZOOM: {
        "deactivate": lambda c, who, o: c.deactivate_user(who),
        "activate": lambda c, who, o: c.activate_user(who),
        "revoke_token": lambda c, who, o: c.revoke_token(who),
    },
}

# Systems whose URLs derive from an org URL: (API path, token path).
ORG_PATHS: dict[System, tuple[str, str]] = {System.OKTA: ("/api/v1", "/oauth2/v1/token")}

# Tests set this to an httpx.MockTransport; None means the real network.
transport: httpx.BaseTransport | None = None
_clients: dict[tuple[Any, ...], ProviderClient] = {}
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class Endpoints:
    api_base_url: str
    token_url: str


def endpoints(system: System, settings: Mapping[str, Any]) -> Endpoints:
    """The API base and token URLs a connection's settings lead to (defaults filled in)."""
    defaults = DEFAULTS[system]
    api = settings.get("api_base_url") or defaults["api_base_url"]
    token = settings.get("token_url") or defaults["token_url"]
    org = str(settings.get("org_url") or "").rstrip("/")
    if org and system in ORG_PATHS:
        api_path, token_path = ORG_PATHS[system]
        api, token = api or f"{org}{api_path}", token or f"{org}{token_path}"
    token = token.replace("{tenant}", str(settings.get("tenant_id") or ""))
    return Endpoints(api.rstrip("/"), token)


def client_config(connection: Connection) -> ClientConfig:
    """Everything a client needs; decrypts the secret (raises SecretUnavailable)."""
    system = connection.system_enum
    urls = endpoints(system, connection.settings)
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
            client = CLIENT_CLASSES[connection.system_enum](config, transport=transport)
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
    return str(connection.settings.get("identity_attribute") or DEFAULT_IDENTITY_ATTRIBUTE[system])


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
def operation_names(system: System) -> tuple[str, ...]:
    """The operations this system supports, e.g. ("suspend", "clear_sessions", ...)."""
    return tuple(OPERATIONS[System(system)])


def run_operation(
    system: System,
    operation: str,
    *,
    target: Target,
    options: Mapping[str, Any] | None = None,
) -> OperationResult:
    """Run one operation for the person; raises ConnectorError (not_configured when disabled)."""
    system = System(system)
    runner = OPERATIONS[system].get(operation)
    if runner is None:
        raise ConnectorError(
            f"{system.label}: unknown operation “{operation}”.",
            system=system.value,
            code="unknown_operation",
        )
    connection, client = _enabled_client(system)
    return runner(client, _account_key(system, connection, target), options or {})


def read_account(system: System, *, target: Target) -> AccountState:
    """A live read of the person's account in this system (for the pre-flight plan)."""
    system = System(system)
    connection, client = _enabled_client(system)
    return client.account_state(_account_key(system, connection, target))


def configured_systems() -> list[System]:
    """Systems with an enabled connection."""
    return [c.system_enum for c in selectors.connection_enabled_list()]


def concurrency_limit(system: System) -> int:
    """How many calls to this system may run at once."""
    system = System(system)
    connection = selectors.connection_get(system)
    if connection is not None and connection.max_concurrency:
        return int(connection.max_concurrency)
    return int(DEFAULTS[system]["max_concurrency"])


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


def okta_search_users(
    *, query: str = "", expression: str = "", after: str | None = None, limit: int = 20
) -> tuple[list[dict], str | None]:
    """Users matching a name/email prefix or a search expression, and the next-page cursor."""
    return _okta().search_users(query=query, expression=expression, after=after, limit=limit)
