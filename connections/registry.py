"""The only module the step runner imports: a system's operations, run through its provider's client."""

from __future__ import annotations

import functools
import logging
import multiprocessing
import re
import threading
import time
from collections.abc import Mapping
from typing import Any, cast

import httpx

from connections import selectors
from connections.exceptions import SecretUnavailable
from connections.models import Connection
from connections.providers import provider_for
from connections.providers.http import ClientConfig, ProviderClient
from connections.providers.okta import events as okta_events
from connections.providers.okta.client import OktaClient
from connections.providers.tokens import TOKEN_CACHE
from connections.signals import connection_changed
from connections.types import AccountState, ConnectorError, OperationResult, System, Target

# Tests set this to an httpx.MockTransport; None means the real network.
transport: httpx.BaseTransport | None = None
_clients: dict[tuple[Any, ...], ProviderClient] = {}
_clients_lock = threading.Lock()
logger = logging.getLogger(__name__)
WARM_DEADLINE = 5.0  # seconds warm_tokens waits for the token requests before going on


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
    """Close and forget every cached client (tests, key rotation), and the kept limits."""
    forget_limits()
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def warm_tokens(deadline: float = WARM_DEADLINE) -> list[str]:
    """Fetch every enabled connection's access token now, into this process's token cache. The
    worker cluster calls this before it forks its workers: they inherit the tokens, so no
    worker's first step of a system waits for a token request (and, for Google and Microsoft 365,
    a signed assertion).

    The requests are made side by side in a short-lived child process, which hands the tokens
    back through a pipe and exits; this process runs no thread and opens no socket for them. A
    process that forks while one of its threads is in, or leaving, OpenSSL (a TLS handshake, a
    signature, a thread's exit handler) gives its children a lock no one will release: a
    worker's first signature then hung for good, holding the interpreter lock (seen in one run in
    fifteen of the bulk journey under load, with the threads once run here). A child that hangs
    so is killed at the deadline, and nothing else is touched.

    Returns the systems not warmed within `deadline` seconds (a refusal, a timeout, a secret that
    cannot be read: their first call asks for a token, as before). Never raises. The child never
    touches the database (it is handed the connections already read)."""
    try:
        connections = selectors.connection_enabled_list()
    except Exception:  # the database is not there yet: the workers' first calls fetch them
        logger.warning("access tokens not fetched ahead: the connections could not be read")
        return []
    if not connections:
        return []
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_warm_in_child,
        args=(connections, sending, deadline),
        name="access-token-warm",
        daemon=True,
    )
    child.start()
    sending.close()
    warmed: list[str] = []
    why: dict[str, str] = {}
    try:
        if receiving.poll(deadline + 1.0):
            warmed, why, tokens = receiving.recv()
            TOKEN_CACHE.adopt(tokens)
    except (EOFError, OSError, ValueError):  # the child died before it answered
        pass
    finally:
        receiving.close()
        child.join(1.0)
        if child.is_alive():
            child.kill()
            child.join()
    missing = [c.system for c in connections if c.system not in warmed]
    for system in missing:
        words = why.get(system) or f"no token within {deadline:g} s"
        logger.warning("%s: access token not fetched ahead (%s)", system, words)
    return missing


def _warm_in_child(connections: list[Connection], sending: Any, deadline: float) -> None:
    """In the child: each connection's token side by side, then (systems warmed, why the others
    were not, the tokens) to the pipe. The words are a ConnectorError's or SecretUnavailable's,
    which carry no secret."""
    warmed: set[str] = set()
    why: dict[str, str] = {}

    def warm(connection: Connection) -> None:
        try:
            client_for(connection).warm()
            warmed.add(connection.system)
        except Exception as exc:
            why[connection.system] = str(exc)

    threads = [threading.Thread(target=warm, args=(c,), daemon=True) for c in connections]
    for thread in threads:
        thread.start()
    ends = time.monotonic() + deadline
    for thread in threads:
        thread.join(max(0.0, ends - time.monotonic()))
    sending.send((sorted(warmed), dict(why), TOKEN_CACHE.export()))
    sending.close()


def cached_clients() -> int:
    """How many clients this process keeps (tests; warm_tokens makes none here)."""
    with _clients_lock:
        return len(_clients)


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


def operation_rounds(system: System | str, operation: str) -> int:
    """Calls the operation makes one after another (1 for an unknown operation)."""
    try:
        found = provider_for(System(system)).operation(operation)
    except ValueError:
        return 1
    return found.rounds if found is not None else 1


def read_account(system: System, *, target: Target) -> AccountState:
    """A live read of the person's account in this system (for the pre-flight plan)."""
    system = System(system)
    connection, client = _enabled_client(system)
    return client.account_state(_account_key(system, connection, target))


# The runner asks for a system's limit on every claim (issue 10: one query of the ~25 a step
# makes). A limit is kept this many seconds per process; a change made in this process (the
# connection_changed signal) applies at once, one made in another within LIMIT_TTL seconds.
LIMIT_TTL = 5.0
_limits: dict[str, tuple[float, int]] = {}


def read_holdings(system: System, *, target: Target, operations: frozenset[str]) -> dict[str, str]:
    """What the planned removing steps would remove, in words per operation ("6 apps")."""
    system = System(system)
    reader = provider_for(system).holdings
    if reader is None:
        return {}
    connection, client = _enabled_client(system)
    return reader(client, _account_key(system, connection, target), operations)


def concurrency_limit(system: System) -> int:
    """How many calls to this system may run at once."""
    system = System(system)
    now = time.monotonic()
    cached = _limits.get(system.value)
    if cached is not None and cached[0] > now:
        return cached[1]
    connection = selectors.connection_get(system)
    if connection is not None and connection.max_concurrency:
        limit = int(connection.max_concurrency)
    else:
        limit = provider_for(system).defaults.max_concurrency
    _limits[system.value] = (now + LIMIT_TTL, limit)
    return limit


def forget_limits(**_: Any) -> None:
    """Drop the kept limits (a connection changed; tests)."""
    _limits.clear()


connection_changed.connect(forget_limits, dispatch_uid="connections.registry.limits")


def _okta() -> OktaClient:
    _, client = _enabled_client(System.OKTA)
    assert isinstance(client, OktaClient)
    return client


def okta_get_user(user_id_or_login: str) -> dict:
    """Raw Okta user JSON without credentials; ConnectorError (status 404) when absent."""
    return _okta().get_user(user_id_or_login)


def okta_user_groups(user_id: str) -> list[dict]:
    """The user's groups as {id, name, type}."""
    return _group_rows(_okta().user_groups(user_id))


# An Okta user id (00u + 17 letters or digits); anything else is a login to resolve first.
_OKTA_USER_ID = re.compile(r"00u[0-9A-Za-z]{17}")


def okta_user_and_groups(user_id_or_login: str) -> tuple[dict, list[dict]]:
    """The user and their groups (as `okta_user_groups`). Given an Okta user id, both are read
    side by side, one call's time: this is the live check before every start. A login is
    resolved to the id first. Errors as one after another: the user's first."""
    client = _okta()
    if not _OKTA_USER_ID.fullmatch(user_id_or_login):
        user = client.get_user(user_id_or_login)
        return user, okta_user_groups(str(user["id"]))
    reads: list[Any] = [
        functools.partial(client.get_user, user_id_or_login),
        functools.partial(client.user_groups, user_id_or_login),
    ]
    user, groups = client.side_by_side(reads)
    return cast(dict, user), _group_rows(cast(list, groups))


def _group_rows(groups: list[dict]) -> list[dict]:
    return [
        {"id": g.get("id"), "name": (g.get("profile") or {}).get("name", ""), "type": g.get("type")}
        for g in groups
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


def okta_group_members(group_id: str) -> list[dict]:
    """Every member of an Okta group, all pages; ConnectorError (status 404) when no such group."""
    return _okta().group_members(group_id)


def okta_search_all(expression: str, *, limit: int = 200) -> list[dict]:
    """Every user matching a search expression, following the cursor through all pages."""
    users: list[dict] = []
    after: str | None = None
    while True:
        page, after = _okta().search_users(expression=expression, after=after, limit=limit)
        users.extend(page)
        if not after or not page:
            return users


# --- Okta event hooks and the System Log (issue 14) -------------------------------------------


def okta_event_hook_create(
    *, name: str, uri: str, header_name: str, secret: str, event_types: list[str]
) -> dict:
    """Register the portal's hook in Okta (not yet verified); the hook's JSON."""
    return okta_events.create_event_hook(
        _okta(), name=name, uri=uri, header_name=header_name, secret=secret, event_types=event_types
    )


def okta_event_hook_verify(hook_id: str) -> dict:
    """Ask Okta to verify the hook: Okta calls the portal's URL with a challenge at once."""
    return okta_events.verify_event_hook(_okta(), hook_id)


def okta_log_events(
    *, next_url: str = "", since: str = "", filter_expr: str = ""
) -> tuple[list[dict], str]:
    """One page of Okta's System Log and the `next` link (see OktaClient.log_events)."""
    return okta_events.log_events(_okta(), next_url=next_url, since=since, filter_expr=filter_expr)
