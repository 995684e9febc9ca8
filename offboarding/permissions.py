"""Every permission predicate, used by views, templates, selectors and services alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q

from offboarding.roles import Role

if TYPE_CHECKING:
    from offboarding.models import ActionRequest, Batch

AnyUser: TypeAlias = User | AnonymousUser
_T = TypeVar("_T")


def _cached(user: AnyUser, name: str, load: Callable[[], _T]) -> _T:
    """A value kept on the user object for the rest of the HTTP request."""
    cache: dict[str, Any] = user.__dict__
    if name not in cache:
        cache[name] = load()
    value: _T = cache[name]
    return value


def role_names(user: AnyUser) -> frozenset[str]:
    """The user's role groups, cached on the user object for the request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return _cached(
        user,
        "_portal_roles",
        lambda: frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True)),
    )


def has_role(user: AnyUser, *roles: str) -> bool:
    return bool(role_names(user).intersection(roles))


def can_search_users(user: AnyUser) -> bool:
    return has_role(user, Role.HELPDESK, Role.APPROVER, Role.RESPONDER)


def can_request(user: AnyUser) -> bool:
    return has_role(user, Role.HELPDESK, Role.APPROVER) or is_api_client(user)


# An API token acts through its own service user, named "api:<token name>": a name Django's
# username rules refuse to people, with no usable password and no role, only the token's team.
API_USERNAME_PREFIX = "api:"


def is_api_client(user: AnyUser) -> bool:
    """The service user of an API token (it may request, never approve: it holds no role)."""
    return (
        isinstance(user, User)
        and user.is_active
        and user.username.startswith(API_USERNAME_PREFIX)
        and not user.has_usable_password()
    )


def can_manage_api_tokens(user: AnyUser) -> bool:
    return has_role(user, Role.CONNECTION_ADMIN)


def can_approve(user: AnyUser) -> bool:
    return has_role(user, Role.APPROVER)


def can_view_audit(user: AnyUser) -> bool:
    return has_role(user, Role.AUDITOR)


def can_verify_audit(user: AnyUser) -> bool:
    return can_view_audit(user)


def can_manage_connections(user: AnyUser) -> bool:
    return has_role(user, Role.CONNECTION_ADMIN)


def can_manage_delegations(user: AnyUser) -> bool:
    return can_manage_connections(user) or user.is_superuser


def can_import_playbooks(user: AnyUser) -> bool:
    """Issue 17: bringing an Arazzo document in as a custom playbook."""
    return can_manage_connections(user)


def can_export_playbooks(user: AnyUser) -> bool:
    """Issue 17: downloading a playbook as an Arazzo document (it holds no secret)."""
    return can_request(user) or can_view_audit(user) or can_manage_connections(user)


# --- Two-factor authentication: PORTAL_REQUIRE_MFA_FOR --------------------------------------------
#
# Members of the roles named there may look but not act until they enrol an authenticator app
# (TOTP). The views send them to enrolment (portal.middleware) and the services refuse as well.


def mfa_roles_of(user: AnyUser) -> list[str]:
    """The user's roles that PORTAL_REQUIRE_MFA_FOR makes enrol TOTP (none when it is empty)."""
    required = settings.PORTAL_REQUIRE_MFA_FOR
    if not required:
        return []
    held = role_names(user)
    return [role for role in required if role in held]


def has_totp(user: AnyUser) -> bool:
    """The user has enrolled an authenticator app; cached on the user object for the request."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    if not user.is_authenticated:
        return False
    return _cached(
        user, "_portal_has_totp", lambda: is_mfa_enabled(user, [Authenticator.Type.TOTP])
    )


def mfa_satisfied(user: AnyUser) -> bool:
    """May act as far as two-factor authentication goes: no role needs it, or TOTP is enrolled."""
    return not mfa_roles_of(user) or has_totp(user)


def primary_role_label(user: AnyUser) -> str:
    """A short label for the header, e.g. 'Approver' or 'Helpdesk, Auditor'."""
    names = [r for r in Role.values if r in role_names(user)]
    if names:
        return ", ".join(names)
    return "Administrator" if user.is_superuser else "No role"


# --- Which requests a user may see: one rule, as a predicate and as a query -----------------------
#
# Auditors and superusers see every request. Everyone else sees the requests they made, and an
# Approver also those of the approver groups they belong to. The history page, the exports, the
# dashboard's figures, the person page and the status page all apply this rule.


def can_browse_requests(user: AnyUser) -> bool:
    """May open the request history (what they see there is `visible_requests`)."""
    return can_request(user) or can_approve(user) or can_view_audit(user) or can_break_glass(user)


def sees_every_request(user: AnyUser) -> bool:
    return user.is_superuser or can_view_audit(user)


def visible_requests(user: AnyUser) -> Q:
    """The rule as a filter on ActionRequest rows (an empty Q: every row)."""
    if sees_every_request(user):
        return Q()
    rule = Q(requester_id=user.pk)
    if can_approve(user):
        rule |= Q(approver_group__in=user.groups.all())
    return rule


def _in_group(user: AnyUser, group_id: int | None) -> bool:
    if group_id is None or not user.is_authenticated:
        return False
    ids = _cached(
        user, "_portal_group_ids", lambda: frozenset(user.groups.values_list("id", flat=True))
    )
    return group_id in ids


def can_view_request(user: AnyUser, action_request: ActionRequest) -> bool:
    """The rule for one request (the same as `visible_requests`)."""
    if sees_every_request(user) or is_requester(user, action_request):
        return True
    return can_approve(user) and _in_group(user, action_request.approver_group_id)


# --- What a user may do with one request -----------------------------------------------------------


def is_requester(user: AnyUser, action_request: ActionRequest) -> bool:
    return user.pk is not None and action_request.requester_id == user.pk


def can_decide_request(user: AnyUser, action_request: ActionRequest) -> bool:
    """Approve or reject: an Approver in the request's approver group, never the requester."""
    return (
        can_approve(user)
        and not is_requester(user, action_request)
        and _in_group(user, action_request.approver_group_id)
    )


def can_cancel_request(user: AnyUser, action_request: ActionRequest) -> bool:
    return (is_requester(user, action_request) and can_request(user)) or can_decide_request(
        user, action_request
    )


def cancel_needs_recent_sign_in(action_request: ActionRequest) -> bool:
    """Stopping an offboard midway leaves a person half locked out: as weighty as approving one."""
    return (
        action_request.kind == action_request.Kind.OFFBOARD
        and action_request.state == action_request.State.RUNNING
    )


def can_retry_request(user: AnyUser, action_request: ActionRequest) -> bool:
    return can_cancel_request(user, action_request)


def can_change_request(user: AnyUser, action_request: ActionRequest) -> bool:
    return is_requester(user, action_request) and can_request(user)


# --- Break-glass and after-the-fact review (issue 14) ----------------------------------------------


def can_break_glass(user: AnyUser) -> bool:
    """May open the break-glass form (the service also wants TOTP, a fresh sign-in, scope)."""
    return has_role(user, Role.RESPONDER)


def can_review_runs(user: AnyUser) -> bool:
    """May open the review queue of runs made without prior approval."""
    return can_approve(user)


def can_review_request(user: AnyUser, action_request: ActionRequest) -> bool:
    """Review a run afterwards: an Approver of the request's approver group (the same people who
    see it, `visible_requests`), never the person who ran it (four-eyes after the fact)."""
    return can_decide_request(user, action_request)


# --- Issue 13: the evidence pack -------------------------------------------------------------------


def can_download_evidence(user: AnyUser, action_request: ActionRequest) -> bool:
    """Auditors (who see every request) and anyone who may see this request, once it is finished:
    the pack holds nothing the request's own page does not already show to them."""
    return action_request.is_final and can_view_request(user, action_request)


# --- Bulk batches (issue 15): the same rule as for requests -----------------------------------------


def can_view_batch(user: AnyUser, batch: Batch) -> bool:
    """The requester, the approvers of its approver group, auditors and superusers."""
    if sees_every_request(user) or (user.pk is not None and batch.requester_id == user.pk):
        return True
    return can_approve(user) and _in_group(user, batch.approver_group_id)


def can_decide_batch(user: AnyUser, batch: Batch) -> bool:
    """Approve or reject a batch: an Approver in its approver group, never the requester."""
    return (
        can_approve(user)
        and user.pk != batch.requester_id
        and _in_group(user, batch.approver_group_id)
    )


def can_retry_batch(user: AnyUser, batch: Batch) -> bool:
    return (
        user.pk is not None and batch.requester_id == user.pk and can_request(user)
    ) or can_decide_batch(user, batch)


def can_remind_approvers(user: AnyUser, action_request: ActionRequest) -> bool:
    """Issue 16: the requester (still a Helpdesk agent or Approver) may nudge the approvers."""
    return is_requester(user, action_request) and can_request(user)
