"""The evidence pack of a finished request: what an auditor needs, as data, signed, checkable offline.

`evidence_pack` gathers the plan as approved, the approvals, every call made (from the attempt
rows), the verification read-backs and the request's audit events with their chain position and
HMAC. `evidence_document` wraps it with an HMAC-SHA256 signature under the audit key
(PORTAL_AUDIT_KEY); `evidence_problems` checks a document without the database: the signature,
each included audit event's own HMAC, and the links between events that follow each other in the
chain. Nothing in a pack is a secret: options are yes/no or ids, call rows hold no body or header,
audit details were scrubbed when recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from offboarding.audit.signing import audit_key, payload_bytes
from offboarding.models import ActionRequest, AuditEvent, StepAttempt, SystemVerification

FORMAT = "portal-evidence-pack/1"
SIGNATURE_ALG = "HMAC-SHA256"
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _iso(value: datetime | None) -> str | None:
    """Times as the audit chain signs them: UTC, microseconds."""
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def _request_part(req: ActionRequest) -> dict[str, Any]:
    return {
        "id": req.pk,
        "kind": req.kind,
        "kind_label": req.get_kind_display(),
        "state": req.state,
        "state_note": req.state_note,
        "target": {
            "okta_id": req.target_okta_id,
            "login": req.target_login,
            "name": req.target_name,
            "email": req.target_email,
            "okta_status_when_requested": req.target_status,
        },
        "systems": list(req.systems),
        "options": dict(req.options),
        "reason": req.reason,
        "ticket": req.ticket,
        "origin": req.origin,
        "origin_detail": req.origin_detail,
        "requester": req.requester.get_username(),
        "approver_group": req.approver_group.name if req.approver_group else "",
        "approvals_needed": req.approvals_needed,
        "fingerprint": req.fingerprint,
        "requested_at": _iso(req.requested_at),
        "approved_at": _iso(req.approved_at),
        "started_at": _iso(req.started_at),
        "finished_at": _iso(req.finished_at),
    }


def _steps_part(req: ActionRequest) -> list[dict[str, Any]]:
    return [
        {
            "key": s.key,
            "label": s.label,
            "system": s.system,
            "operation": s.operation,
            "options": s.options,
            "depends_on": list(s.depends_on),
            "after_all": s.after_all,
            "status": s.status,
            "outcome": s.outcome,
            "detail": s.detail,
            "result": s.result,
            "attempts": s.attempts,
            "started_at": _iso(s.started_at),
            "finished_at": _iso(s.finished_at),
        }
        for s in req.steps.all()
    ]


def _calls_part(req: ActionRequest) -> list[dict[str, Any]]:
    attempts = (
        StepAttempt.objects.filter(step__action_request=req)
        .select_related("step")
        .order_by("at", "id")
    )
    return [
        {
            "step": a.step.key,
            "attempt": a.attempt_no,
            "method": a.method,
            "path": a.path,
            "status": a.status_code,
            "duration_ms": round(a.duration_ms, 1),
            "error_code": a.error_code,
            "message": a.message,
            "stale": a.stale,
            "at": _iso(a.at),
        }
        for a in attempts
    ]


def _verifications_part(req: ActionRequest) -> list[dict[str, Any]]:
    rows = SystemVerification.objects.filter(action_request=req).order_by("system", "-at")
    return [
        {
            "system": v.system,
            "verdict": v.verdict,
            "summary": v.summary,
            "observed": v.observed,
            "at": _iso(v.at),
        }
        for v in rows
    ]


def request_audit_events(req: ActionRequest) -> list[AuditEvent]:
    """The audit events about the request, its steps and its verifications, in chain order."""
    step_ids = [str(pk) for pk in req.steps.values_list("pk", flat=True)]
    check_ids = [str(pk) for pk in req.verifications.values_list("pk", flat=True)]
    rule = (
        Q(object_type="actionrequest", object_id=str(req.pk))
        | Q(object_type="steprun", object_id__in=step_ids)
        | Q(object_type="systemverification", object_id__in=check_ids)
    )
    events = list(AuditEvent.objects.filter(rule))
    # Linked events by their place in the chain; any still sealed (not yet linked) last.
    events.sort(key=lambda e: (e.seq is None, e.seq or 0, e.pk))
    return events


def _event_part(e: AuditEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": _iso(e.at),
        "actor_id": e.actor_id,
        "actor_label": e.actor_label,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "target": e.target,
        "ip": e.ip,
        "details": e.details,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def evidence_pack(req: ActionRequest, *, generated_by: str) -> dict[str, Any]:
    """Everything an auditor needs about one request, as plain JSON-ready data."""
    return {
        "format": FORMAT,
        "generated_at": _iso(timezone.now()),
        "generated_by": generated_by,
        "request": _request_part(req),
        "plan_at_submission": req.plan,
        "steps": _steps_part(req),
        "approvals": [
            {
                "approver": a.approver.get_username(),
                "decision": a.decision,
                "comment": a.comment,
                "fingerprint": a.fingerprint,
                "for_the_approved_version": a.fingerprint == req.fingerprint,
                "at": _iso(a.at),
            }
            for a in req.approvals.all()
        ],
        "calls": _calls_part(req),
        "verifications": _verifications_part(req),
        "audit_events": [_event_part(e) for e in request_audit_events(req)],
    }


# --- Signing and checking --------------------------------------------------------------------------


def _canonical(pack: dict[str, Any]) -> bytes:
    return _ENCODE(pack).encode()


def _mac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pack_signature(pack: dict[str, Any], *, key: bytes | None = None) -> str:
    """HMAC-SHA256 under the audit key of the pack's canonical JSON, kept apart by a prefix."""
    return _mac(key or audit_key(), b"evidence-pack|" + _canonical(pack))


def evidence_document(pack: dict[str, Any], *, key: bytes | None = None) -> dict[str, Any]:
    """The downloadable file: the pack and its signature."""
    return {
        "pack": pack,
        "signature": {
            "alg": SIGNATURE_ALG,
            "key": "PORTAL_AUDIT_KEY",
            "value": pack_signature(pack, key=key),
        },
    }


def _event_problems(events: list[Any], key: bytes) -> list[str]:
    """Each audit event's own HMAC, and the link to the one before when they are neighbours."""
    problems: list[str] = []
    previous: dict[str, Any] | None = None
    for n, e in enumerate(events, 1):
        where = f"audit event {n} (seq {e.get('seq') if isinstance(e, dict) else '?'})"
        try:
            if not (e["seq"] is None or type(e["seq"]) is int) or not isinstance(e["hash"], str):
                raise TypeError("seq or hash")
            if not isinstance(e["prev_hash"], str):
                raise TypeError("prev_hash")
            body = payload_bytes(
                e["seq"],
                datetime.fromisoformat(e["at"]),
                e["actor_id"],
                e["actor_label"],
                e["action"],
                e["object_type"],
                e["object_id"],
                e["target"],
                e["ip"],
                e["details"],
                e["prev_hash"] if e["seq"] is not None else "",
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where}: a field is missing or malformed.")
            previous = None
            continue
        if not hmac.compare_digest(e["hash"].encode(), _mac(key, body).encode()):
            problems.append(f"{where}: its HMAC does not match its contents.")
        if previous is not None and e["seq"] is not None and previous["seq"] is not None:
            if e["seq"] <= previous["seq"]:
                problems.append(f"{where}: out of chain order.")
            elif e["seq"] == previous["seq"] + 1 and e["prev_hash"] != previous["hash"]:
                problems.append(
                    f"{where}: does not link to the event before it (seq {e['seq'] - 1})."
                )
        previous = e
    return problems


def evidence_problems(document: Any, *, key: bytes | None = None) -> list[str]:
    """What is wrong with an evidence file, in words; an empty list means it checks out."""
    if not isinstance(document, dict) or not isinstance(document.get("pack"), dict):
        return ["Not an evidence pack: no “pack” object."]
    pack, signature = document["pack"], document.get("signature")
    if pack.get("format") != FORMAT:
        return [f"Unknown format {pack.get('format')!r}; expected {FORMAT!r}."]
    if not isinstance(signature, dict) or signature.get("alg") != SIGNATURE_ALG:
        return ["The signature is missing or not HMAC-SHA256."]
    key = key or audit_key()
    problems = []
    claimed = str(signature.get("value", "")).encode()
    if not hmac.compare_digest(claimed, pack_signature(pack, key=key).encode()):
        problems.append(
            "The signature does not match: the pack was changed after it was signed, "
            "or it was signed with another audit key."
        )
    events = pack.get("audit_events")
    if not isinstance(events, list):
        return [*problems, "The pack has no list of audit events."]
    return problems + _event_problems(events, key)
