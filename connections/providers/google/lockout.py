"""Google Workspace offboard steps beyond the account: backup codes, mobile devices, read-back.

Functions over a `GoogleWorkspaceClient`; the provider's operations call them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from connections.providers.google.client import DIRECTORY, GoogleWorkspaceClient
from connections.providers.verification import (
    ReadBack,
    no_account,
    plural,
    read_side_by_side,
    wanted,
)
from connections.types import ConnectorError, OperationResult, Outcome

NO_USER = "No Google Workspace user with this address."
# The admin's own customer (Google's alias) unless the connection names one.
MY_CUSTOMER = "my_customer"
WIPE = "admin_account_wipe"  # removes the work account and its data from the device
BLOCK = "block"  # the gentler choice: the device stops syncing, nothing is erased
DONE_STATUSES = {WIPE: frozenset({"ACCOUNT_WIPING", "WIPING"}), BLOCK: frozenset({"BLOCKED"})}
DONE_STATUSES[BLOCK] = DONE_STATUSES[BLOCK] | DONE_STATUSES[WIPE]


def invalidate_backup_codes(client: GoogleWorkspaceClient, user_key: str) -> OperationResult:
    """Invalidate the user's backup verification codes (repeatable, one call; 404: no account)."""
    try:
        client.request(
            "POST", f"{client.user_path(user_key)}/verificationCodes/invalidate", resource="user"
        )
    except ConnectorError as exc:
        if exc.status == 404:
            return OperationResult(Outcome.NO_ACCOUNT, NO_USER)
        raise
    return OperationResult(Outcome.DONE, "Backup verification codes invalidated.")


def _customer_path(client: GoogleWorkspaceClient) -> str:
    customer = str(client.config.settings.get("customer_id") or MY_CUSTOMER)
    return f"{DIRECTORY}/customer/{client.segment(customer, 'customer')}"


def backup_codes(client: GoogleWorkspaceClient, user_key: str) -> list[dict[str, Any]]:
    body = client.get_json(f"{client.user_path(user_key)}/verificationCodes", resource="user")
    return list(body.get("items") or [])


def mobile_devices(client: GoogleWorkspaceClient, email: str) -> list[dict[str, Any]]:
    """The user's mobile devices (user-owned; all pages), each as Google returns it."""
    devices: list[dict[str, Any]] = []
    token = ""
    while True:
        params = {"query": f"email:{email}", "maxResults": 100}
        if token:
            params["pageToken"] = token
        body = client.get_json(
            f"{_customer_path(client)}/devices/mobile", params=params, resource="devices"
        )
        devices.extend(body.get("mobiledevices") or [])
        token = str(body.get("nextPageToken") or "")
        if not token:
            return devices


def act_on_devices(
    client: GoogleWorkspaceClient, user_key: str, *, block_only: bool = False
) -> OperationResult:
    """Wipe the work account from each of the user's mobile devices (or block them)."""
    action = BLOCK if block_only else WIPE
    user, devices = _user_and_devices(client, user_key)
    if user is None:
        return OperationResult(Outcome.NO_ACCOUNT, NO_USER)
    pending = [
        d
        for d in devices
        if d.get("resourceId") and str(d.get("status", "")) not in DONE_STATUSES[action]
    ]

    def act(device: dict[str, Any]) -> bool:
        rid = str(device["resourceId"])
        try:
            client.request(
                "POST",
                f"{_customer_path(client)}/devices/mobile/{client.segment(rid, 'device')}/action",
                json={"action": action},
                resource="device",
            )
        except ConnectorError as exc:
            if exc.status != 404:  # a device removed meanwhile is fine
                raise
            return False
        return True

    # The devices side by side: one device's action does not wait for another's.
    acted = client.side_by_side([functools.partial(act, d) for d in pending])
    done = [d for d, ok in zip(pending, acted, strict=True) if ok]
    touched = [str(d["resourceId"]) for d in done]
    previous = {str(d["resourceId"]): str(d.get("status", "")) for d in done}
    data = {"device_ids": touched, "action": action, "previous_statuses": previous}
    if not touched:
        return OperationResult(
            Outcome.ALREADY_DONE, f"No mobile device left to act on ({len(devices)} in all).", data
        )
    phones = plural(len(touched), "mobile device")
    words = f"Account wiped from {phones}." if action == WIPE else f"{phones} blocked."
    return OperationResult(Outcome.DONE, words[:1].upper() + words[1:], data)


def _user_and_devices(
    client: GoogleWorkspaceClient, user_key: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The user and their mobile devices, read side by side."""
    got = read_side_by_side(
        {
            "user": lambda: client.find_user(user_key),
            "devices": lambda: mobile_devices(client, user_key),
        },
        client.side_by_side,
    )
    user = got["user"]()
    if user is None:
        return None, []
    return user, _devices_of(client, user, user_key, got["devices"])()


def _devices_of(
    client: GoogleWorkspaceClient,
    user: Mapping[str, Any],
    user_key: str,
    listed: Callable[[], list[dict[str, Any]]],
) -> Callable[[], list[dict[str, Any]]]:
    """The devices as listed by the address the request carries, or, when the user's primary
    address is another (the request carried an alias), a reader that lists them by that one."""
    email = str(user.get("primaryEmail") or user_key)
    if email.lower() != user_key.lower():
        return functools.partial(mobile_devices, client, email)
    return listed


def verify(
    client: GoogleWorkspaceClient, user_key: str, options: Mapping[str, Any]
) -> OperationResult:
    """Read the account back: suspended, tokens, app passwords, backup codes, devices. The reads
    go side by side (none depends on another)."""
    path = client.user_path(user_key)
    readers: dict[str, Callable[[], Any]] = {"user": lambda: client.find_user(user_key)}
    if wanted(options, "revoke_oauth_tokens"):
        readers["tokens"] = functools.partial(_items, client, f"{path}/tokens")
    if wanted(options, "delete_app_passwords"):
        readers["asps"] = functools.partial(_items, client, f"{path}/asps")
    if wanted(options, "invalidate_backup_codes"):
        readers["backup_codes"] = lambda: backup_codes(client, user_key)
    if wanted(options, "mobile_devices"):
        readers["devices"] = lambda: mobile_devices(client, user_key)
    got = read_side_by_side(readers, client.side_by_side)
    user = got["user"]()
    if user is None:
        return no_account("Google Workspace")
    rb = ReadBack("Google")
    suspended = bool(user.get("suspended"))
    rb.observed["suspended"] = suspended
    if wanted(options, "suspend"):
        rb.expect(suspended, "Google shows the account not suspended")
    for kind, noun in (("tokens", "OAuth token"), ("asps", "app password")):
        if kind in got:
            items = rb.read(kind, got[kind])
            if items is not None:
                rb.observed[kind] = len(items)
                rb.expect(not items, f"Google still lists {plural(len(items), noun)}")
    if "backup_codes" in got:
        codes = rb.read("backup_codes", got["backup_codes"])
        if codes is not None:
            rb.observed["backup_codes"] = len(codes)
            rb.expect(not codes, f"Google still lists {plural(len(codes), 'backup code')}")
    if "devices" in got:
        reader = _devices_of(client, user, user_key, got["devices"])
        _verify_devices(rb, reader, block_only=wanted(options, "block_only"))
    if wanted(options, "sign_out"):
        rb.observed["sessions"] = "not readable through the API; the sign-out was answered 204"
        rb.notes.append("Google's API does not show sessions (the sign-out was accepted)")
    rb.notes.insert(0, "Google shows the account suspended" if suspended else "Google account read")
    return rb.result()


def _items(client: GoogleWorkspaceClient, path: str) -> list[dict[str, Any]]:
    return list(client.get_json(path, resource="user").get("items") or [])


def _verify_devices(
    rb: ReadBack, reader: Callable[[], list[dict[str, Any]]], *, block_only: bool
) -> None:
    devices = rb.read("devices", reader)
    if devices is None:
        return
    done = DONE_STATUSES[BLOCK if block_only else WIPE]
    left = [d for d in devices if d.get("status") not in done]
    rb.observed["devices"] = {str(d.get("resourceId")): d.get("status") for d in devices}
    words = "blocked" if block_only else "wiped"
    rb.expect(not left, f"Google still lists {plural(len(left), 'mobile device')} not {words}")


def holdings(
    client: GoogleWorkspaceClient, user_key: str, operations: frozenset[str]
) -> dict[str, str]:
    """For the pre-flight plan: how many mobile devices the step would act on."""
    if "mobile_devices" not in operations:
        return {}
    user = client.find_user(user_key) or {}
    devices = mobile_devices(client, str(user.get("primaryEmail") or user_key))
    left = [d for d in devices if d.get("status") not in DONE_STATUSES[BLOCK]]
    return {"mobile_devices": plural(len(left), "mobile device")}
