"""Okta calls that put back what an offboard removed (issue 13): group memberships, app assignments.

Kept apart from the client so that it stays small; each function takes the client and speaks the
domain like its methods do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.types import ConnectorError, OperationResult, Outcome

if TYPE_CHECKING:
    from connections.providers.okta.client import OktaClient


def add_to_groups(client: OktaClient, user_id: str, group_ids: list[str]) -> OperationResult:
    """Add the user back to each group (PUT is idempotent: a member already is one).

    A group deleted since answers 404: it is reported, not fatal, so the others still return.
    """
    added, gone = [], []
    for group_id in group_ids:
        try:
            client.request(
                "PUT",
                f"/groups/{client.segment(group_id, 'group')}/users/{client.segment(user_id)}",
                resource="group membership",
            )
        except ConnectorError as exc:
            if exc.status != 404:
                raise
            gone.append(group_id)
        else:
            added.append(group_id)
    return _restored("group membership", added, gone, data_key="added_group_ids")


def assign_apps(client: OktaClient, user_id: str, app_ids: list[str]) -> OperationResult:
    """Assign each app to the user again (POST /apps/{appId}/users, scope USER).

    An app deleted since answers 404: it is reported, not fatal. Per-app profile values and
    app-side data the unassignment deprovisioned are not restored (Okta cannot).
    """
    assigned, gone = [], []
    for app_id in app_ids:
        try:
            client.request(
                "POST",
                f"/apps/{client.segment(app_id, 'app')}/users",
                json={"id": user_id, "scope": "USER"},
                resource="app assignment",
            )
        except ConnectorError as exc:
            if exc.status != 404:
                raise
            gone.append(app_id)
        else:
            assigned.append(app_id)
    return _restored("app assignment", assigned, gone, data_key="assigned_app_ids")


def _restored(what: str, done: list[str], gone: list[str], *, data_key: str) -> OperationResult:
    data = {data_key: done, "not_found_ids": gone}
    if not done and not gone:
        return OperationResult(Outcome.ALREADY_DONE, f"No {what}s to restore.", data=data)
    words = f"Restored {len(done)} {what}(s)."
    if gone:
        words += f" {len(gone)} no longer exist in Okta: {', '.join(gone)}."
    return OperationResult(Outcome.DONE, words, data=data)
