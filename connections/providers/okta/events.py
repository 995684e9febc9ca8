"""Okta event hooks and the System Log (issue 14): register and verify the portal's hook, read the
log as a polling request. Functions over the Okta client's public calls (CONTRACTS.md §1.6, §1.7)."""

from __future__ import annotations

from typing import Any

from connections.providers.okta.client import OktaClient
from connections.types import ConnectorError


def create_event_hook(
    client: OktaClient,
    *,
    name: str,
    uri: str,
    header_name: str,
    secret: str,
    event_types: list[str],
) -> dict[str, Any]:
    """Register an event hook (POST /eventHooks); Okta sends `header_name: secret` with each
    delivery. Returns the hook JSON (the secret is write-only: Okta never returns it)."""
    body = {
        "name": name,
        "events": {"type": "EVENT_TYPE", "items": list(event_types)},
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": uri,
                "authScheme": {"type": "HEADER", "key": header_name, "value": secret},
            },
        },
    }
    response = client.request("POST", "/eventHooks", json=body, resource="event hook")
    return dict(response.json())


def verify_event_hook(client: OktaClient, hook_id: str) -> dict[str, Any]:
    """Ask Okta to verify the hook (it calls the portal with a challenge); the hook JSON.
    Hook ids have the shape of group ids (letters and digits)."""
    path = f"/eventHooks/{client.segment(hook_id, 'group')}/lifecycle/verify"
    return dict(client.request("POST", path, resource="event hook").json())


def log_events(
    client: OktaClient,
    *,
    next_url: str = "",
    since: str = "",
    filter_expr: str = "",
    limit: int = 1000,
) -> tuple[list[dict[str, Any]], str]:
    """One page of the System Log as a polling request (no `until`): the events and the absolute
    `next` link to request next time (Okta always sends one when polling)."""
    if next_url:
        response = client.request("GET", next_url, resource="log")
    else:
        params: dict[str, Any] = {"limit": max(1, min(int(limit), 1000))}
        if since:
            params["since"] = since
        if filter_expr:
            params["filter"] = filter_expr
        response = client.request("GET", "/logs", params=params, resource="log")
    events = response.json()
    if not isinstance(events, list):
        raise ConnectorError(
            "Okta: the System Log answer was not a list.", system="okta", code="bad_response"
        )
    return events, str(response.links.get("next", {}).get("url") or "")
