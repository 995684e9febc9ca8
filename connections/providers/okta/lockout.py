"""Okta offboard steps beyond the account itself: app assignments, devices, and the read-back.

Functions over an `OktaClient` (the client module stays a client); the provider's operations call
them. Each removing step says what it removed in `OperationResult.data`, for reinstate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from connections.providers.okta.client import (
    LOCKED_STATUSES,
    REMOVABLE_GROUP_TYPES,
    OktaClient,
)
from connections.providers.verification import (
    ReadBack,
    no_account,
    plural,
    read_side_by_side,
    wanted,
)
from connections.types import ConnectorError, OperationResult, Outcome

NO_USER = "No Okta user with this id."
GROUP_ASSIGNED = "E0000046"  # "Deactivate application for user forbidden": a group grants it


def app_links(client: OktaClient, user_id: str) -> list[dict[str, Any]]:
    """The user's app links (apps assigned directly and through groups)."""
    return client.list_all(f"/users/{client.segment(user_id)}/appLinks", resource="user")


def user_devices(client: OktaClient, user_id: str) -> list[dict[str, Any]]:
    """The user's registered devices, each {"id", "status", "name"} (Identity Engine only)."""
    found = client.list_all(f"/users/{client.segment(user_id)}/devices", resource="user")
    devices = []
    for item in found:
        device = item.get("device") or {}
        profile = device.get("profile") or {}
        devices.append(
            {
                "id": str(device.get("id", "")),
                "status": str(device.get("status", "")),
                "name": str(profile.get("displayName", "")),
            }
        )
    return devices


def unassign_apps(client: OktaClient, user_id: str) -> OperationResult:
    """Unassign the user from every app assigned to them directly.

    Okta's app links list direct and group-based assignments alike, and telling them apart
    would cost a read per app; so each is unassigned, and Okta refuses a group-based one with
    403 E0000046 ("cannot be unassigned … while their group memberships grant them access",
    observed): that one is kept and counted, as it goes when the person leaves the group (the
    "remove from groups" step). A 404 is an assignment already gone. The verification then says
    what remains.
    """
    try:
        links = app_links(client, user_id)
    except ConnectorError as exc:
        if exc.status == 404:
            return OperationResult(Outcome.NO_ACCOUNT, NO_USER)
        raise
    app_ids = list(dict.fromkeys(str(link.get("appInstanceId") or "") for link in links))
    app_ids = [a for a in app_ids if a]
    if not app_ids:
        return OperationResult(Outcome.ALREADY_DONE, "No app assignments.", {"removed_app_ids": []})

    def unassign(app_id: str) -> str:
        try:
            client.request(
                "DELETE",
                f"/apps/{client.segment(app_id, 'app')}/users/{client.segment(user_id)}",
                params={"sendEmail": "false"},
                resource="app assignment",
            )
        except ConnectorError as exc:
            if exc.code == GROUP_ASSIGNED:
                return "by_group"
            if exc.status != 404:  # already unassigned is fine
                raise
            return "gone"
        return "removed"

    # Side by side: one assignment's removal does not wait for another's.
    outcomes = client.side_by_side([functools.partial(unassign, a) for a in app_ids])
    removed = [a for a, o in zip(app_ids, outcomes, strict=True) if o == "removed"]
    by_group = [a for a, o in zip(app_ids, outcomes, strict=True) if o == "by_group"]
    words = f"Unassigned from {plural(len(removed), 'app')}."
    if by_group:
        words += f" {plural(len(by_group), 'app')} kept: assigned through a group."
    return OperationResult(
        Outcome.DONE if removed else Outcome.ALREADY_DONE,
        words,
        data={"removed_app_ids": removed, "group_assigned_app_ids": by_group},
    )


def lock_devices(client: OktaClient, user_id: str, *, deactivate: bool = True) -> OperationResult:
    """Suspend each ACTIVE device, then (by default) deactivate it.

    Deactivating removes the device's factors, certificates and user links (it cannot be
    undone); suspending alone can be (unsuspend). Already suspended or deactivated devices count
    as done.
    """
    action = "deactivate" if deactivate else "suspend"
    try:
        devices = user_devices(client, user_id)
    except ConnectorError as exc:
        if exc.status == 404:
            return OperationResult(Outcome.NO_ACCOUNT, NO_USER)
        if exc.status == 400 and exc.code == "E0000001":
            # Okta documents this 400 for the user's devices: the Devices API is Identity
            # Engine only. Nothing can be listed, so nothing is done, and the words say why.
            return OperationResult(
                Outcome.ALREADY_DONE,
                "Okta did not list devices (its Devices API needs Identity Engine): none locked.",
                {"device_ids": [], "action": action, "previous_statuses": {}},
            )
        raise

    def lock(device: dict[str, Any]) -> bool:
        status = device["status"]
        steps = []
        if status == "ACTIVE":
            steps.append("suspend")
        if deactivate and status in ("ACTIVE", "SUSPENDED"):
            steps.append("deactivate")
        for step in steps:  # in turn for one device (Okta deactivates a suspended device)
            _device_lifecycle(client, device["id"], step)
        return bool(steps)

    # The devices side by side: one device's lock does not wait for another's.
    locked = client.side_by_side([functools.partial(lock, d) for d in devices])
    touched = [d["id"] for d, done in zip(devices, locked, strict=True) if done]
    previous = {d["id"]: d["status"] for d, done in zip(devices, locked, strict=True) if done}
    words = "deactivated" if deactivate else "suspended"
    data = {"device_ids": touched, "action": action, "previous_statuses": previous}
    if not touched:
        return OperationResult(
            Outcome.ALREADY_DONE, f"No device left to lock ({len(devices)} in all).", data
        )
    return OperationResult(Outcome.DONE, f"{plural(len(touched), 'device')} {words}.", data)


def _device_lifecycle(client: OktaClient, device_id: str, action: str) -> None:
    try:
        client.request(
            "POST",
            f"/devices/{client.segment(device_id, 'device')}/lifecycle/{action}",
            resource="device",
        )
    except ConnectorError as exc:
        # 400 on a suspend: the device is no longer ACTIVE (another admin, a repeat): go on.
        if not (exc.status == 404 or (action == "suspend" and exc.code == "E0000001")):
            raise


def verify(client: OktaClient, user_id: str, options: Mapping[str, Any]) -> OperationResult:
    """Read the account back: status, and what each step that ran should have left empty. The
    reads go side by side (none depends on another): one call's time, not six."""
    path = f"/users/{client.segment(user_id)}"
    readers: dict[str, Callable[[], Any]] = {"user": lambda: client.find_user(user_id)}
    if wanted(options, "unassign_apps"):
        readers["app_links"] = lambda: app_links(client, user_id)
    if wanted(options, "remove_from_groups"):
        readers["groups"] = lambda: client.user_groups(user_id)
    if wanted(options, "reset_factors"):
        readers["factors"] = lambda: client.list_all(f"{path}/factors", resource="user")
    if wanted(options, "revoke_grants"):
        readers["grants"] = lambda: client.list_all(f"{path}/grants", resource="user")
    if wanted(options, "lock_devices"):
        readers["devices"] = lambda: user_devices(client, user_id)
    got = read_side_by_side(readers, client.side_by_side)
    user = got["user"]()  # its errors are the step's (a missing user is None)
    if user is None:
        return no_account("Okta")
    rb = ReadBack("Okta")
    status = str(user.get("status", ""))
    rb.observed["status"] = status
    if wanted(options, "suspend"):
        rb.expect(status in LOCKED_STATUSES, f"Okta shows the account {status}, not suspended")
    if "app_links" in got:
        links = rb.read("app_links", got["app_links"])
        if links is not None:
            rb.observed["app_links"] = len(links)
            rb.expect(not links, f"Okta still lists {plural(len(links), 'app assignment')}")
    if "groups" in got:
        groups = rb.read("groups", got["groups"])
        if groups is not None:
            left = [g for g in groups if g.get("type") in REMOVABLE_GROUP_TYPES]
            rb.observed["groups"] = {"removable": len(left), "kept": len(groups) - len(left)}
            rb.expect(not left, f"Okta still lists {plural(len(left), 'Okta group')}")
    if "factors" in got:
        factors = rb.read("factors", got["factors"])
        if factors is not None:
            active = [f for f in factors if f.get("status") not in ("NOT_SETUP", "INACTIVE")]
            rb.observed["factors"] = len(active)
            rb.expect(not active, f"Okta still lists {plural(len(active), 'enrolled factor')}")
    if "grants" in got:
        grants = rb.read("grants", got["grants"])
        if grants is not None:
            rb.observed["grants"] = len(grants)
            rb.expect(not grants, f"Okta still lists {plural(len(grants), 'app grant')}")
    if "devices" in got:
        devices = rb.read("devices", got["devices"])
        if devices is not None:
            _verify_devices(devices, rb, deactivate=wanted(options, "deactivate_devices"))
    if wanted(options, "clear_sessions"):
        rb.observed["sessions"] = "not readable through the API; the clear was answered 204"
        rb.notes.append("Okta's API does not show sessions (the clear was accepted)")
    rb.notes.insert(0, f"Okta shows the account {status}")
    return rb.result()


def _verify_devices(devices: list[dict[str, Any]], rb: ReadBack, *, deactivate: bool) -> None:
    done = {"DEACTIVATED"} if deactivate else {"SUSPENDED", "DEACTIVATED"}
    left = [d for d in devices if d["status"] not in done]
    rb.observed["devices"] = {d["id"]: d["status"] for d in devices}
    words = "deactivated" if deactivate else "suspended"
    rb.expect(not left, f"Okta still lists {plural(len(left), 'device')} not {words}")


def holdings(client: OktaClient, user_id: str, operations: frozenset[str]) -> dict[str, str]:
    """For the pre-flight plan: how many apps and unlocked devices the steps would act on."""
    found: dict[str, str] = {}
    if "unassign_apps" in operations:
        apps = {link.get("appInstanceId") for link in app_links(client, user_id)}
        found["unassign_apps"] = plural(len(apps), "app")
    if "lock_devices" in operations:
        devices = [d for d in user_devices(client, user_id) if d["status"] != "DEACTIVATED"]
        found["lock_devices"] = plural(len(devices), "device")
    return found
