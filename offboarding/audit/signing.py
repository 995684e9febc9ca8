"""What the audit key signs: an event's canonical bytes, the chain head, the watermark, checkpoints."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from offboarding.models import AuditEvent

# What an event says (the signed payload's fields between its position and its links).
CONTENT_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "target",
    "ip",
    "details",
)

GENESIS_HASH = "0" * 64
_SECRET_WORDS = ("password", "secret", "token", "authorization", "private_key", "api_key")
# Built once: json.dumps with these options would build a new encoder for every event.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def audit_key() -> bytes:
    key = settings.PORTAL_AUDIT_KEY
    if not key:
        raise ImproperlyConfigured("PORTAL_AUDIT_KEY is not set: audit events cannot be signed.")
    return key.encode("utf-8")


def _secretish(key: Any, value: Any) -> bool:
    """A secret-looking key whose value could hold one (a yes/no option such as
    `okta_oauth_tokens: true` cannot, and is kept so auditors see what was chosen)."""
    if isinstance(value, bool) or value is None:
        return False
    return any(word in str(key).lower() for word in _SECRET_WORDS)


def scrub(value: Any) -> Any:
    """Drop anything that looks like a secret from event details, whatever the caller passed."""
    if isinstance(value, dict):
        return {str(k): ("[removed]" if _secretish(k, v) else scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def payload_bytes(
    seq: int | None,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    target: str,
    ip: str,
    details: Any,
    prev_hash: str,
) -> bytes:
    """The exact bytes an event's hash covers: every field but the hash itself, sorted, compact.

    A sealed event not yet linked has no sequence and an empty previous hash."""
    payload = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "target": target,
        "ip": ip,
        "details": details,
        "prev_hash": prev_hash,
    }
    return _ENCODE(payload).encode()


def canonical_payload(event: AuditEvent) -> bytes:
    return payload_bytes(
        event.seq,
        event.at,
        event.actor_id,
        event.actor_label,
        event.action,
        event.object_type,
        event.object_id,
        event.target,
        event.ip,
        event.details,
        event.prev_hash,
    )


def compute_hash(event: AuditEvent, *, key: bytes | None = None) -> str:
    return hmac.new(key or audit_key(), canonical_payload(event), hashlib.sha256).hexdigest()


def sign(kind: str, *parts: object, key: bytes | None = None) -> str:
    """HMAC of a small record ("head", "watermark", "checkpoint"); the kind keeps them apart."""
    message = "|".join([kind, *(str(p) for p in parts)]).encode()
    return hmac.new(key or audit_key(), message, hashlib.sha256).hexdigest()


def signed(signature: str, kind: str, *parts: object, key: bytes | None = None) -> bool:
    return bool(signature) and hmac.compare_digest(signature, sign(kind, *parts, key=key))
