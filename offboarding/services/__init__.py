"""Business actions (writes). Import from here: `from offboarding import services`."""

from offboarding.audit import audit_chain_verify, audit_record
from offboarding.services.delegations import (
    delegation_delete,
    delegation_save,
    protected_group_add,
    protected_group_remove,
)
from offboarding.services.requests import (
    action_request_approve,
    action_request_cancel,
    action_request_change,
    action_request_expire,
    action_request_reject,
    action_request_retry_system,
    action_request_submit,
    approvals_counted,
    request_fingerprint,
)
from offboarding.services.targets import (
    TargetInfo,
    preflight_plan,
    protection_check,
    scope_check,
    target_lookup,
)


def action_request_start(**kwargs):  # noqa: ANN003, ANN201 (a lazy alias: runner imports services)
    from offboarding.runner import action_request_start as start

    return start(**kwargs)


def step_run_execute(**kwargs):  # noqa: ANN003, ANN201
    from offboarding.runner import step_run_execute as execute

    return execute(**kwargs)


def sweep(**kwargs):  # noqa: ANN003, ANN201
    from offboarding.runner import sweep as run_sweep

    return run_sweep(**kwargs)


__all__ = [
    "TargetInfo",
    "action_request_approve",
    "action_request_cancel",
    "action_request_change",
    "action_request_expire",
    "action_request_reject",
    "action_request_retry_system",
    "action_request_start",
    "action_request_submit",
    "approvals_counted",
    "audit_chain_verify",
    "audit_record",
    "delegation_delete",
    "delegation_save",
    "preflight_plan",
    "protection_check",
    "protected_group_add",
    "protected_group_remove",
    "request_fingerprint",
    "scope_check",
    "step_run_execute",
    "sweep",
    "target_lookup",
]
