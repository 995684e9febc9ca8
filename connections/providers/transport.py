"""An httpx transport that connects only to the addresses the URL policy checked.

Resolving a host for the policy check and again when connecting leaves a gap: a DNS answer that
changes in between (rebinding to 127.0.0.1 or 169.254.169.254) would be connected to. Here the
socket goes to an address handed over by the check, while TLS still verifies the certificate
for the host name and sends it as SNI (httpcore starts TLS with the origin's host name).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Iterable

import httpcore
import httpx

# (host name, port) -> the checked addresses a connection to it may use; () when none.
AddressLookup = Callable[[str, int], tuple[str, ...]]


class PinnedBackend(httpcore.NetworkBackend):
    """A network backend that never resolves a host name: it asks `addresses` which IPs to use."""

    def __init__(
        self, addresses: AddressLookup, inner: httpcore.NetworkBackend | None = None
    ) -> None:
        self._addresses = addresses
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._addresses(host, port)
        if not addresses:
            raise httpcore.ConnectError(
                f"{host} was not checked by the URL policy; not connecting."
            )
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # noqa: S101 (addresses is not empty)
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("Provider clients never use unix sockets.")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@functools.lru_cache(maxsize=1)
def shared_ssl_context() -> ssl.SSLContext:
    """httpx's verifying TLS context, made once per process and shared by every client's pool.

    Making one loads the CA bundle: ~25 ms, which a process's first call to each system paid while
    holding the registry's client lock, so a cold worker's first steps queued behind it. The
    cluster makes it before it forks its workers (`runner.cluster`), so they inherit it."""
    return httpx.create_ssl_context(trust_env=False)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport (TLS verification, pooling, limits) on a PinnedBackend."""

    def __init__(
        self,
        addresses: AddressLookup,
        *,
        limits: httpx.Limits,
        inner: httpcore.NetworkBackend | None = None,
    ) -> None:
        # httpx.HTTPTransport takes no network backend, so its pool is built here (not by
        # super().__init__) with ours and the settings httpx would use: certificates verified.
        self._pool = httpcore.ConnectionPool(
            ssl_context=shared_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(addresses, inner),
        )
