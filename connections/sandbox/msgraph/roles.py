"""Entra directory roles: a user's role memberships, and the sensitive-change rule for privileged people.

Real Entra lets an app change a sensitive property (accountEnabled) of a person who holds a
privileged role only when the app itself holds Privileged Authentication Administrator or Global
Administrator; otherwise 403 `Authorization_RequestDenied` "Insufficient privileges to complete the
operation." (CONTRACTS.md §4.1, privileged targets). The app's role is `directory_role` in
`/_sandbox/apps/graph`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.sandbox import apps, data
from connections.sandbox.msgraph.errors import graph_error
from connections.sandbox.msgraph.users import user_or_404
from connections.sandbox.routing import Router
from connections.sandbox.web import Request, Resp

if TYPE_CHECKING:
    from connections.sandbox.app import App

router = Router()
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"  # the role's well-known template id
WRITE_ROLES = {
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
    "User.EnableDisableAccount.All",
    "User.ReadUpdate.All",
}
READ_ROLES = {"Directory.Read.All", "Directory.ReadWrite.All", "RoleManagement.Read.Directory"}


def denied() -> Resp:
    return graph_error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def _granted(req: Request) -> set[str]:
    return set((req.auth or {}).get("scopes") or ())


def sensitive_change_denied(app: App, req: Request, idx: int) -> Resp | None:
    """403 unless the app may change accountEnabled of this person (permission, then role)."""
    if not _granted(req) & WRITE_ROLES:
        return denied()
    if app.org.has(idx, data.F_PRIVROLE):
        if app.state.apps["graph"].get("directory_role") not in apps.PRIVILEGED_ROLES:
            return denied()
    return None


@router.add("GET", "/users/{userId}/memberOf/microsoft.graph.directoryRole", (), "users")
def directory_roles(app: App, req: Request) -> Resp:
    """The directory roles the user is a direct member of (needs Directory.Read.All or similar)."""
    if not _granted(req) & READ_ROLES:
        return denied()
    idx = user_or_404(app, req)
    if isinstance(idx, Resp):
        return idx
    roles = []
    if app.org.has(idx, data.F_PRIVROLE):
        roles.append(
            {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": "0b3d1a52-7f1e-4c8e-9a61-" + f"{idx:012d}",
                "displayName": "Global Administrator",
                "description": "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
                "roleTemplateId": GLOBAL_ADMIN_TEMPLATE,
            }
        )
    context = f"{req.base_url}/graph/v1.0/$metadata#directoryObjects"
    return Resp(200, {"@odata.context": context, "value": roles})
