"""Microsoft 365 offboard steps beyond the account: registered devices, and the read-back.

Functions over a `MicrosoftGraphClient`; the provider's operations call them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connections.providers.msgraph.client import MicrosoftGraphClient
from connections.providers.verification import (
    ReadBack,
    no_account,
    plural,
    read_side_by_side,
    since,
    wanted,
)
from connections.types import ConnectorError, OperationResult, Outcome

NO_USER = "No Microsoft 365 user with this name."
DEVICE_PERMISSION = (
    "disabling devices needs the application permission Device.ReadWrite.All "
    "(and, for a signed-in admin, the Cloud Device Administrator role)"
)


def registered_devices(client: MicrosoftGraphClient, user: str) -> list[dict[str, Any]]:
    """The user's registered devices (all pages), each {"id", "accountEnabled", "displayName"}."""
    devices: list[dict[str, Any]] = []
    url: str | None = f"/users/{client.segment(user)}/registeredDevices"
    params: dict[str, Any] | None = {"$select": "id,deviceId,accountEnabled,displayName"}
    while url:
        body = client.get_json(url, params=params, resource="user")
        devices.extend(v for v in body.get("value") or [] if isinstance(v, dict))
        url, params = body.get("@odata.nextLink"), None
    return devices


def disable_devices(client: MicrosoftGraphClient, user: str) -> OperationResult:
    """Disable (accountEnabled=false) each enabled registered device; a 403 says the permission."""
    try:
        devices = registered_devices(client, user)
    except ConnectorError as exc:
        if exc.status == 404:
            return OperationResult(Outcome.NO_ACCOUNT, NO_USER)
        raise
    enabled = [d for d in devices if d.get("accountEnabled") is not False and d.get("id")]

    def disable(device: dict[str, Any]) -> bool:
        try:
            client.request(
                "PATCH",
                f"/devices/{client.segment(device['id'], 'device')}",
                json={"accountEnabled": False},
                resource="device",
            )
        except ConnectorError as exc:
            if exc.status == 404:  # removed meanwhile
                return False
            if exc.status == 403:
                raise ConnectorError(
                    f"Microsoft 365: {DEVICE_PERMISSION}. ({exc.message})",
                    system=exc.system,
                    status=403,
                    code=exc.code,
                ) from None
            raise
        return True

    # The devices side by side: one device's PATCH does not wait for another's.
    done = client.side_by_side([functools.partial(disable, d) for d in enabled])
    touched = [str(d["id"]) for d, ok in zip(enabled, done, strict=True) if ok]
    data = {"device_ids": touched, "action": "disable", "previous_status": "enabled"}
    if not touched:
        return OperationResult(
            Outcome.ALREADY_DONE, f"No enabled device ({len(devices)} in all).", data
        )
    return OperationResult(Outcome.DONE, f"{plural(len(touched), 'device')} disabled.", data)


def verify(client: MicrosoftGraphClient, user: str, options: Mapping[str, Any]) -> OperationResult:
    """Read the account back: accountEnabled, signInSessionsValidFromDateTime, devices."""
    readers: dict[str, Callable[[], Any]] = {"user": lambda: client.find_user(user)}
    if wanted(options, "disable_devices"):
        readers["devices"] = lambda: registered_devices(client, user)
    got = read_side_by_side(readers, client.side_by_side)  # none depends on another
    found = got["user"]()
    if found is None:
        return no_account("Microsoft 365")
    rb = ReadBack("Microsoft 365")
    enabled = bool(found.get("accountEnabled"))
    rb.observed["accountEnabled"] = enabled
    if wanted(options, "disable"):
        rb.expect(not enabled, "Microsoft 365 shows the account enabled")
    if wanted(options, "revoke_sessions"):
        _verify_sessions(found, rb, since(options))
    if wanted(options, "disable_devices"):
        devices = rb.read("devices", got["devices"])
        if devices is not None:
            left = [d for d in devices if d.get("accountEnabled") is not False]
            rb.observed["devices"] = {str(d.get("id")): d.get("accountEnabled") for d in devices}
            rb.expect(not left, f"Microsoft 365 still lists {plural(len(left), 'enabled device')}")
    rb.notes.append(
        "Microsoft 365 shows the account "
        + ("enabled" if enabled else "disabled")
        + (", sessions valid only from the revoke on" if wanted(options, "revoke_sessions") else "")
    )
    return rb.result()


def _verify_sessions(found: Mapping[str, Any], rb: ReadBack, started: datetime | None) -> None:
    raw = str(found.get("signInSessionsValidFromDateTime") or "")
    rb.observed["signInSessionsValidFromDateTime"] = raw
    if started is None:
        return
    try:
        valid_from = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        rb.expect(False, "Microsoft 365 does not show when sign-in sessions became valid")
        return
    # Graph keeps whole seconds; the steps' start time has microseconds.
    rb.expect(
        valid_from >= started.replace(microsecond=0),
        f"Microsoft 365 sessions are valid from {raw}, before the revoke",
    )


def holdings(client: MicrosoftGraphClient, user: str, operations: frozenset[str]) -> dict[str, str]:
    """For the pre-flight plan: how many enabled devices the step would disable."""
    if "disable_devices" not in operations:
        return {}
    enabled = [d for d in registered_devices(client, user) if d.get("accountEnabled") is not False]
    return {"disable_devices": plural(len(enabled), "active device")}
