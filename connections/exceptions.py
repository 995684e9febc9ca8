"""Domain errors of the connections app, under one base class."""

from __future__ import annotations


class ConnectionsError(Exception):
    """Base class for errors raised by the connections app (never carries a secret)."""


class SecretUnavailable(ConnectionsError):
    """A stored secret cannot be decrypted: wrong key, corrupt, or copied from another row."""


class UrlRefused(ConnectionsError):
    """An outbound URL breaks the URL policy; the message says why, in words."""


class InvalidSettings(ConnectionsError):
    """Connection settings or secret fields are missing or malformed."""
