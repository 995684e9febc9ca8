"""The tamper-evident audit trail: append (chain), verify (verify), checkpoints sent outside."""

from offboarding.audit.chain import audit_chain_link, audit_record
from offboarding.audit.checkpoints import (
    CheckpointError,
    CheckpointReport,
    audit_checkpoint_last,
    audit_checkpoint_write,
    audit_checkpoints_verify,
)
from offboarding.audit.signing import GENESIS_HASH, canonical_payload, compute_hash
from offboarding.audit.verify import (
    ChainReport,
    audit_chain_verify,
    audit_verify_current,
    audit_watermark_save,
)

__all__ = [
    "GENESIS_HASH",
    "ChainReport",
    "CheckpointError",
    "CheckpointReport",
    "audit_chain_link",
    "audit_chain_verify",
    "audit_checkpoint_last",
    "audit_checkpoint_write",
    "audit_checkpoints_verify",
    "audit_record",
    "audit_verify_current",
    "audit_watermark_save",
    "canonical_payload",
    "compute_hash",
]
