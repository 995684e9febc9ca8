"""Business actions (writes, and reads that leave an audit trace). Import from here:
`from offboarding import services`.

Services sit above the runner, the selectors and `offboarding.targets` (the live Okta reads they
share with the runner); nothing below imports them.
"""

from offboarding.audit import (
    audit_chain_verify,
    audit_checkpoint_last,
    audit_record,
    audit_verify_current,
)
from offboarding.runner import action_request_expire
from offboarding.services.api_requests import (
    PersonFound,
    api_person_lookup,
    api_request_create,
)
from offboarding.services.api_tokens import api_call_record, api_token_create, api_token_revoke
from offboarding.services.break_glass import SignInTooOld, action_request_break_glass
from offboarding.services.cancel import action_request_cancel
from offboarding.services.custom_playbooks import (
    custom_playbook_import,
    playbook_export_record,
)
from offboarding.services.decide import (
    action_request_approve,
    action_request_reject,
    approvals_counted,
    step_runs_create,
)
from offboarding.services.delegations import (
    delegation_delete,
    delegation_save,
    protected_group_add,
    protected_group_remove,
)
from offboarding.services.evidence import evidence_pack_download
from offboarding.services.groups import okta_group_search
from offboarding.services.person import PersonOverview, person_overview
from offboarding.services.reads import (
    PersonSearch,
    audit_chain_check,
    export_record,
    person_search,
    record_user_view,
    search_record,
)
from offboarding.services.remind import approvers_remind
from offboarding.services.retry import action_request_retry_system
from offboarding.services.review import request_review_required, review_record
from offboarding.services.submit import (
    action_request_change,
    action_request_submit,
    request_fingerprint,
)
from offboarding.targets import (
    TargetInfo,
    preflight_plan,
    protection_check,
    scope_check,
    target_lookup,
)

__all__ = [
    "custom_playbook_import",
    "playbook_export_record",
    "PersonFound",
    "approvers_remind",
    "okta_group_search",
    "PersonOverview",
    "person_overview",
    "PersonSearch",
    "SignInTooOld",
    "TargetInfo",
    "action_request_approve",
    "action_request_break_glass",
    "action_request_cancel",
    "action_request_change",
    "action_request_expire",
    "action_request_reject",
    "action_request_retry_system",
    "action_request_submit",
    "api_call_record",
    "api_person_lookup",
    "api_request_create",
    "api_token_create",
    "api_token_revoke",
    "approvals_counted",
    "audit_chain_check",
    "audit_chain_verify",
    "audit_checkpoint_last",
    "audit_record",
    "audit_verify_current",
    "delegation_delete",
    "delegation_save",
    "evidence_pack_download",
    "export_record",
    "person_search",
    "preflight_plan",
    "protected_group_add",
    "protected_group_remove",
    "protection_check",
    "record_user_view",
    "request_fingerprint",
    "request_review_required",
    "review_record",
    "scope_check",
    "search_record",
    "step_runs_create",
    "target_lookup",
]
