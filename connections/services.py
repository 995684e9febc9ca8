"""Writes to connections: save settings and secret, enable/disable, test, rotate keys."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from connections import registry, url_policy
from connections.exceptions import InvalidSettings, SecretUnavailable, UrlRefused
from connections.models import Connection
from connections.providers import provider_for
from connections.signals import connection_changed
from connections.types import ConnectorError, System

logger = logging.getLogger(__name__)

# Settings every system accepts besides its own (Provider.setting_keys); anything else is dropped.
COMMON_KEYS = ("identity_attribute", "api_base_url", "token_url")
URL_KEYS = ("org_url", "api_base_url", "token_url")
_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def validate_settings(system: System, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the known keys, check identity attribute and every URL against the URL policy.

    Raises InvalidSettings with {field: message} in `args[0]`.
    """
    allowed = provider_for(system).setting_keys + COMMON_KEYS
    clean = {k: v for k, v in settings.items() if k in allowed and v not in (None, "", [])}
    errors: dict[str, str] = {}
    attribute = str(clean.get("identity_attribute", ""))
    if attribute and not _ATTRIBUTE.match(attribute):
        errors["identity_attribute"] = "Use an Okta profile attribute name such as login or email."
    domains: list[str] = []
    for value in clean.get("custom_domains") or []:
        try:
            domains.append(url_policy.normalise_custom_domain(str(value)))
        except UrlRefused as exc:
            errors["custom_domains"] = str(exc)
    if domains:
        clean["custom_domains"] = domains
    for key in URL_KEYS:
        if key in clean:
            url = str(clean[key]).replace("{tenant}", "tenant")
            try:
                url_policy.check_url(url, system=system, extra_hosts=domains)
            except UrlRefused as exc:
                errors[key] = str(exc)
            else:
                clean[key] = str(clean[key]).rstrip("/")
    if errors:
        raise InvalidSettings(errors)
    return clean


def missing_requirements(connection: Connection) -> list[str]:
    """What still has to be filled in before the connection can be used, in words."""
    provider = provider_for(connection.system)
    settings = connection.settings
    missing = [f"setting “{k}”" for k in provider.required_settings if not settings.get(k)]
    if not connection.has_secret:
        missing.append("the secret")
        return missing
    try:
        secret = connection.decrypt_secret()
    except SecretUnavailable as exc:
        return [*missing, str(exc)]
    needed = provider.secrets_needed(settings)
    missing.extend(f"secret “{k}”" for k in needed if not secret.get(k))
    return missing


@dataclass(frozen=True)
class SaveResult:
    connection: Connection
    created: bool
    changed_fields: tuple[str, ...]


def _send_changed(
    connection: Connection, actor: Any, action: str, changed: tuple[str, ...]
) -> None:
    connection_changed.send(
        sender=Connection, connection=connection, actor=actor, action=action, changed_fields=changed
    )


def _secrets_to_make(
    system: System, settings: Mapping[str, Any], connection: Connection, new: Mapping[str, Any]
) -> dict[str, Any]:
    """The secret values the provider makes itself and the connection lacks (e.g. a DPoP key)."""
    make = provider_for(system).make_secrets
    if make is None:
        return {}
    try:
        current = connection.decrypt_secret() if connection.has_secret else {}
    except SecretUnavailable:
        current = {}
    return make(settings, {**current, **new})


@transaction.atomic
def connection_save(
    *,
    system: System,
    actor: Any,
    label: str,
    settings: Mapping[str, Any],
    secret: Mapping[str, Any] | None = None,
    max_concurrency: int | None = None,
) -> SaveResult:
    """Create or update the system's connection; a non-empty `secret` replaces secret values.

    Validates settings (InvalidSettings). Does nothing, and sends nothing, when nothing changes.
    """
    system = System(system)
    clean = validate_settings(system, settings)
    connection = Connection.objects.select_for_update().filter(system=system.value).first()
    created = connection is None
    if connection is None:
        connection = Connection(
            system=system.value,
            created_by=actor,
            max_concurrency=provider_for(system).defaults.max_concurrency,
        )
    changed: list[str] = []
    for field, value in (("label", label.strip() or system.label), ("settings", clean)):
        if getattr(connection, field) != value:
            setattr(connection, field, value)
            changed.append(field)
    if max_concurrency and connection.max_concurrency != max_concurrency:
        connection.max_concurrency = max_concurrency
        changed.append("max_concurrency")
    new_values = {k: v for k, v in (secret or {}).items() if v not in (None, "", {})}
    new_values.update(_secrets_to_make(system, clean, connection, new_values))
    if new_values:
        try:
            current = connection.decrypt_secret() if connection.has_secret else {}
        except SecretUnavailable:
            current = None  # an unreadable old secret is replaced, not merged
        merged = {**(current or {}), **new_values}
        if merged != current:
            connection.set_secret(merged)
            connection.secret_set_at = timezone.now()
            changed.append("secret")
    if not changed and not created:
        return SaveResult(connection, False, ())
    connection.updated_by = actor
    connection.save()
    action = "created" if created else ("secret_replaced" if changed == ["secret"] else "updated")
    _send_changed(connection, actor, action, tuple(changed))
    logger.info("connection %s %s (fields: %s)", system.value, action, ", ".join(changed))
    return SaveResult(connection, created, tuple(changed))


@transaction.atomic
def connection_set_enabled(*, connection: Connection, actor: Any, enabled: bool) -> Connection:
    """Enable or disable; enabling needs complete settings and a readable secret (InvalidSettings)."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.enabled == enabled:
        return connection
    if enabled:
        missing = missing_requirements(connection)
        if missing:
            raise InvalidSettings({"__all__": "Cannot enable yet; missing: " + "; ".join(missing)})
    connection.enabled = enabled
    connection.updated_by = actor
    connection.save(update_fields=["enabled", "updated_by", "updated_at"])
    _send_changed(connection, actor, "enabled" if enabled else "disabled", ("enabled",))
    return connection


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str


def connection_test(*, connection: Connection, actor: Any) -> TestResult:
    """Run a harmless read with the stored credential and record the result.

    The outside call runs with no transaction or row lock held; then the result is saved atomically.
    """
    missing = missing_requirements(connection)
    if missing:
        result = TestResult(False, "Not tested; missing: " + "; ".join(missing))
    else:
        try:
            client = registry.client_for(connection)
            result = TestResult(True, client.test_connection())
        except ConnectorError as exc:
            result = TestResult(False, exc.message)
        except SecretUnavailable as exc:
            result = TestResult(False, str(exc))
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        locked.last_test_at = timezone.now()
        locked.last_test_ok = result.ok
        locked.last_test_message = result.message[:1000]
        locked.save(
            update_fields=["last_test_at", "last_test_ok", "last_test_message", "updated_at"]
        )
        _send_changed(locked, actor, "tested", ("last_test_ok", "last_test_message"))
    connection.refresh_from_db()
    return result


def connection_rotate_keys(*, actor: Any = None) -> int:
    """Re-encrypt every stored secret under the first key; returns how many were re-encrypted.

    Raises SecretUnavailable (naming the system) if one cannot be decrypted; nothing is changed then.
    """
    count = 0
    with transaction.atomic():
        for connection in Connection.objects.select_for_update().exclude(secret_ciphertext=""):
            try:
                data = connection.decrypt_secret()
            except SecretUnavailable as exc:
                raise SecretUnavailable(f"{connection.system_enum.label}: {exc}") from None
            version = connection.secret_version
            connection.set_secret(data)
            connection.secret_version = version  # same secret: cached tokens stay valid
            connection.save(update_fields=["secret_ciphertext", "updated_at"])
            _send_changed(connection, actor, "keys_rotated", ("secret_ciphertext",))
            count += 1
    registry.reset_clients()
    return count
