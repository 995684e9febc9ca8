"""Zoom's read-back after a request's steps: the user's status (the SSO token cannot be read)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connections.providers.verification import ReadBack, no_account, wanted
from connections.providers.zoom.client import ZoomClient
from connections.types import OperationResult


def verify(client: ZoomClient, user_id: str, options: Mapping[str, Any]) -> OperationResult:
    """Read the user back: status inactive after a deactivate."""
    user = client.find_user(user_id)
    if user is None:
        return no_account("Zoom")
    rb = ReadBack("Zoom")
    status = str(user.get("status", ""))
    rb.observed["status"] = status
    if wanted(options, "deactivate"):
        rb.expect(status == "inactive", f"Zoom shows the user {status or 'without a status'}")
    if wanted(options, "revoke_token"):
        rb.observed["sessions"] = "not readable through the API; the revoke was answered 204"
        rb.notes.append("Zoom's API does not show the SSO token (the revoke was accepted)")
    rb.notes.insert(0, f"Zoom shows the user {status}")
    return rb.result()
