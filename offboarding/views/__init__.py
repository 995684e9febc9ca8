"""Offboarding pages, one module per area; short views that call services."""

from offboarding.views.api_tokens import api_token_revoke, api_tokens
from offboarding.views.arazzo import (
    playbook_download,
    playbook_import,
    playbook_list,
    request_arazzo,
)
from offboarding.views.audit import audit_event, audit_list, audit_verify
from offboarding.views.break_glass import break_glass, review_decide, reviews
from offboarding.views.bulk import (
    bulk_approve,
    bulk_detail,
    bulk_export,
    bulk_live,
    bulk_new,
    bulk_reject,
    bulk_retry,
    bulk_submit,
)
from offboarding.views.common import (
    get_request_for_user,
    recent_sign_in_required,
    signed_in_recently,
)
from offboarding.views.evidence import request_evidence, request_evidence_json
from offboarding.views.exports import audit_export, request_export
from offboarding.views.group_picker import okta_groups
from offboarding.views.history import request_list
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
    request_live,
    request_new,
    request_reject,
    request_retry,
)
from offboarding.views.search import search, search_results, user_detail
from offboarding.views.waiting import request_remind

__all__ = [
    "playbook_download",
    "playbook_import",
    "playbook_list",
    "request_arazzo",
    "break_glass",
    "review_decide",
    "reviews",
    "api_token_revoke",
    "api_tokens",
    "bulk_approve",
    "bulk_detail",
    "bulk_export",
    "bulk_live",
    "bulk_new",
    "bulk_reject",
    "bulk_retry",
    "bulk_submit",
    "delegation_edit",
    "policies",
    "protected_add",
    "protected_remove",
    "approvals",
    "audit_event",
    "request_remind",
    "okta_groups",
    "audit_list",
    "audit_export",
    "audit_verify",
    "get_request_for_user",
    "recent_sign_in_required",
    "request_approve",
    "request_cancel",
    "request_detail",
    "request_evidence",
    "request_evidence_json",
    "request_export",
    "request_live",
    "request_list",
    "request_new",
    "request_reject",
    "request_retry",
    "search",
    "search_results",
    "signed_in_recently",
    "user_detail",
]
