"""Outbound URL policy: which URLs a connector may call (checked on save and before each call)."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings

from connections.exceptions import UrlRefused
from connections.providers import provider_for
from connections.types import System

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

Resolver = Callable[..., list]
# Tests replace this (monkeypatch) so that no real DNS lookup happens.
resolver: Resolver = socket.getaddrinfo

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_CUSTOM_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalise_custom_domain(value: str) -> str:
    """A custom Okta domain as a bare lowercase host name, or UrlRefused."""
    host = value.strip().lower()
    if not _CUSTOM_DOMAIN.match(host):
        raise UrlRefused(f"“{value}” is not a host name such as login.example.com.")
    return host


def _host_allowed(system: System, host: str, extra_hosts: Iterable[str]) -> bool:
    hosts = provider_for(system).hosts
    if host in hosts.names or host in set(extra_hosts):
        return True
    for suffix in hosts.suffixes:
        if host.endswith(suffix) and _LABEL.match(host[: -len(suffix)] or "-"):
            return True
    return False


def _is_ip_literal(host: str) -> bool:
    if ":" in host:
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    # Decimal (2130706433), hex (0x7f000001), octal (0177.0.0.1) and short (127.1) forms:
    # a real public name never ends in an all-numeric label.
    return bool(_NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]))


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def public_addresses(host: str, port: int = 443) -> tuple[str, ...]:
    """Resolve `host` once: the addresses to connect to, or UrlRefused unless all are public."""
    try:
        answers = resolver(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UrlRefused(f"The host {host} does not resolve.") from None
    addresses = tuple(dict.fromkeys(str(answer[4][0]) for answer in answers))
    if not addresses:
        raise UrlRefused(f"The host {host} does not resolve.")
    for address in addresses:
        if not _address_is_public(address):
            raise UrlRefused(
                f"The host {host} resolves to a private, loopback or link-local address."
            )
    return addresses


def connect_addresses(
    url: str,
    *,
    system: System,
    extra_hosts: Iterable[str] = (),
    sandbox: bool | None = None,
) -> tuple[str, ...]:
    """Check `url`, then the only addresses a connection to its host may use (UrlRefused).

    The name is resolved once, here: the transport connects to these addresses instead of
    resolving again, so an answer that changes in between (DNS rebinding) is never used. In the
    sandbox a loopback host is its own address.
    """
    sandbox = settings.PORTAL_SANDBOX if sandbox is None else sandbox
    checked = check_url(url, system=system, extra_hosts=extra_hosts, sandbox=sandbox, resolve=False)
    host = (urlsplit(checked).hostname or "").lower()
    if sandbox and host in LOOPBACK_HOSTS:
        return (host,)
    return public_addresses(host, 443)


def check_url(
    url: str,
    *,
    system: System,
    extra_hosts: Iterable[str] = (),
    sandbox: bool | None = None,
    resolve: bool = True,
) -> str:
    """Return `url` without a trailing slash if the policy allows it; raise UrlRefused otherwise."""
    sandbox = settings.PORTAL_SANDBOX if sandbox is None else sandbox
    if not isinstance(url, str) or not url or any(c.isspace() or ord(c) < 32 for c in url):
        raise UrlRefused("Enter a URL without spaces or control characters.")
    if "\\" in url:
        raise UrlRefused("Backslashes are not allowed in a URL.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("This URL is malformed (check the host and port).") from None
    if parts.scheme not in ("https", "http"):
        raise UrlRefused("Only https:// URLs are allowed.")
    if "@" in parts.netloc or parts.username is not None:
        raise UrlRefused("User names or passwords in the URL are not allowed.")
    if parts.query or parts.fragment:
        raise UrlRefused("A base URL cannot carry a query string or fragment.")
    host = (parts.hostname or "").lower()
    if not host:
        raise UrlRefused("The URL has no host.")
    if sandbox and host in LOOPBACK_HOSTS:
        return url.rstrip("/")
    if parts.scheme != "https":
        raise UrlRefused("Only https:// URLs are allowed (plain http only for the local sandbox).")
    if port not in (None, 443):
        raise UrlRefused("Only the standard https port (443) is allowed.")
    if _is_ip_literal(host) or "[" in parts.netloc:
        raise UrlRefused("IP addresses are not allowed; use the provider's host name.")
    if host.endswith(".") or not all(_LABEL.match(label) for label in host.split(".")):
        raise UrlRefused(f"“{host}” is not a valid host name.")
    if not _host_allowed(system, host, extra_hosts):
        raise UrlRefused(f"{host} is not a {system.label} host{_allowed_hint(system)}.")
    if resolve:
        public_addresses(host, 443)
    return url.rstrip("/")


def _allowed_hint(system: System) -> str:
    hosts = provider_for(system).hosts
    return f" ({hosts.hint or 'allowed: ' + ', '.join(sorted(hosts.names))})"
