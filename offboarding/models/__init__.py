"""The offboarding app's models, one module per concern; import them from here.

- ``requests``: ActionRequest, Approval
- ``steps``: StepRun, StepAttempt
- ``scope``: Delegation, ProtectedGroup
- ``verification``: SystemVerification (what a system showed after the steps)
- ``review``: AfterTheFactReview (runs made without prior approval, reviewed afterwards)
- ``api``: ApiToken, ApiIdempotencyKey (the REST API, issue 15)
- ``batch``: Batch, BatchRow, BatchDecision (bulk requests)
- ``hooks``: EventHook, HookDelivery, HookEvent, EventPolicy, SyslogCursor (Okta events, issue 14)
- ``custom_playbooks``: CustomPlaybook, CustomPlaybookVersion (Arazzo imports, issue 17)
- ``audit``: AuditEvent (the chain's signed state lives in ``offboarding.audit_models``)

New models go in a new module here (each under 400 lines) and are re-exported below.
"""

from offboarding.audit_models import AuditChainHead, AuditCheckpoint, AuditWatermark
from offboarding.models.api import ApiIdempotencyKey, ApiToken
from offboarding.models.audit import AppendOnlyError, AuditEvent, AuditEventQuerySet
from offboarding.models.batch import Batch, BatchDecision, BatchRow
from offboarding.models.custom_playbooks import CustomPlaybook, CustomPlaybookVersion
from offboarding.models.hooks import (
    EventHook,
    EventPolicy,
    HookDelivery,
    HookEvent,
    SyslogCursor,
)
from offboarding.models.requests import ActionRequest, Approval, SystemChoices
from offboarding.models.review import AfterTheFactReview
from offboarding.models.scope import Delegation, ProtectedGroup
from offboarding.models.steps import StepAttempt, StepRun
from offboarding.models.verification import SystemVerification

__all__ = [
    "ActionRequest",
    "AfterTheFactReview",
    "ApiIdempotencyKey",
    "ApiToken",
    "AppendOnlyError",
    "Approval",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditEventQuerySet",
    "AuditWatermark",
    "Batch",
    "BatchDecision",
    "BatchRow",
    "CustomPlaybook",
    "CustomPlaybookVersion",
    "Delegation",
    "EventHook",
    "EventPolicy",
    "HookDelivery",
    "HookEvent",
    "ProtectedGroup",
    "StepAttempt",
    "StepRun",
    "SystemChoices",
    "SyslogCursor",
    "SystemVerification",
]
