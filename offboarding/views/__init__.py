"""Offboarding pages, one module per area; short views that call services."""

from offboarding.views.audit import audit_list, audit_verify
from offboarding.views.common import (
    get_request_for_user,
    recent_sign_in_required,
    signed_in_recently,
)
from offboarding.views.policies import (
    delegation_edit,
    policies,
    protected_add,
    protected_remove,
)
from offboarding.views.requests import (
    approvals,
    request_approve,
    request_cancel,
    request_detail,
    request_list,
    request_new,
    request_reject,
    request_retry,
)

__all__ = [
    "delegation_edit",
    "policies",
    "protected_add",
    "protected_remove",
    "approvals",
    "audit_list",
    "audit_verify",
    "get_request_for_user",
    "recent_sign_in_required",
    "request_approve",
    "request_cancel",
    "request_detail",
    "request_list",
    "request_new",
    "request_reject",
    "request_retry",
    "signed_in_recently",
]
