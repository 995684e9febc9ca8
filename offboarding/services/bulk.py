"""Bulk requests, first half: the preview (a draft batch with a verdict per row) and submitting it
to the approvers. Deciding and releasing a batch is in `services.bulk_decide`.

The preview reads Okta a few calls for the whole file (`offboarding.bulk_lookup`), then decides
each row in memory: unreadable, duplicate in the file, unknown in Okta, already offboarded,
protected, outside the requester's delegations, or already has an open request; the rest are found
and go on.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from offboarding import bulk_csv, bulk_lookup, notifications, permissions, playbooks
from offboarding.audit import audit_record
from offboarding.exceptions import InvalidRequest, InvalidTransition, NotAllowed, OutOfScope
from offboarding.models import (
    ActionRequest,
    AuditEvent,
    Batch,
    BatchRow,
    Delegation,
    ProtectedGroup,
)
from offboarding.services.guards import ensure_mfa
from offboarding.targets import TargetInfo, delegation_candidates, delegation_for

V = BatchRow.Verdict
_PENDING_STATES = (*ActionRequest.OPEN_STATES, ActionRequest.State.SCHEDULED)


@dataclass(frozen=True)
class BulkChoice:
    """What the batch asks: one action, its systems and options, the default reason and ticket."""

    kind: str
    systems: list[str]
    reason: str
    ticket: str = ""
    options: dict[str, Any] | None = None


def batch_fingerprint(batch: Batch, okta_ids: list[str]) -> str:
    """SHA-256 over what an approver approves: action, systems, options and the people."""
    payload = {
        "kind": batch.kind,
        "systems": sorted(batch.systems),
        "options": {k: batch.options[k] for k in sorted(batch.options)},
        "people": sorted(okta_ids),
    }
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def _checked(requester: User, choice: BulkChoice) -> tuple[list[str], dict[str, Any]]:
    if not permissions.can_request(requester):
        raise NotAllowed("Only Helpdesk and Approvers may request actions.")
    ensure_mfa(requester)
    if choice.kind not in ActionRequest.Kind.values:
        raise InvalidRequest(f"Unknown action “{choice.kind}”.")
    if not choice.reason.strip():
        raise InvalidRequest("Say why: a reason is required.")
    systems = playbooks.normalise_systems(choice.systems)
    options = playbooks.normalise_options(choice.kind, choice.options)
    playbooks.build_steps(choice.kind, systems=systems, options=options)
    return systems, options


def _rows_from_group(group_id: str) -> list[bulk_csv.ParsedRow]:
    people = bulk_lookup.group_people(group_id.strip())
    if not people:
        raise InvalidRequest("That Okta group has no members.")
    if len(people) > bulk_csv.MAX_ROWS:
        raise InvalidRequest(
            f"That group has {len(people):,} members; a batch takes at most {bulk_csv.MAX_ROWS:,}."
        )
    return [
        bulk_csv.ParsedRow(line=n, identity=str((p.get("profile") or {}).get("login", "")))
        for n, p in enumerate(people, start=1)
    ]


class _Judge:
    """Decides each row's verdict from one lookup of Okta and of the portal's own tables."""

    def __init__(self, requester: User, kind: str, rows: list[bulk_csv.ParsedRow]) -> None:
        self.requester, self.kind = requester, kind
        keys = sorted({r.key for r in rows if not r.problem})
        self.lookup = bulk_lookup.people_lookup(keys)
        self.candidates = delegation_candidates(requester)
        self.protected = {g.okta_group_id: str(g) for g in ProtectedGroup.objects.all()}
        scoped = {
            gid
            for d in self.candidates
            if kind in (d.allowed_actions or [])
            for gid in (d.target_group_ids or [])
        }
        self.members, calls = bulk_lookup.group_members(sorted(set(self.protected) | scoped))
        self.lookup.calls += calls
        found_ids = [str(u["id"]) for u in self.lookup.people.values()]
        self.open = open_requests_for(kind, found_ids)
        self.seen_keys: set[str] = set()
        self.seen_ids: set[str] = set()

    def groups_of(self, okta_id: str) -> dict[str, str]:
        return {
            gid: self.protected.get(gid, gid) for gid, m in self.members.items() if okta_id in m
        }

    def verdict(
        self, row: bulk_csv.ParsedRow
    ) -> tuple[str, str, dict[str, Any], Delegation | None]:
        if row.problem:
            return V.INVALID, row.problem, {}, None
        if row.key in self.seen_keys:
            return V.DUPLICATE, "the same login or email is on an earlier row", {}, None
        self.seen_keys.add(row.key)
        user = self.lookup.find(row.key)
        if user is None:
            return V.UNKNOWN, "Okta has no user with this login or email", {}, None
        okta_id = str(user["id"])
        if okta_id in self.seen_ids:
            return V.DUPLICATE, "the same person is on an earlier row", user, None
        self.seen_ids.add(okta_id)
        if user.get("status") == "DEPROVISIONED":
            return V.OFFBOARDED, "deactivated in Okta already", user, None
        groups = self.groups_of(okta_id)
        hit = next((name for gid, name in groups.items() if gid in self.protected), None)
        if hit is not None:
            return V.PROTECTED, f"member of the protected group “{hit}”", user, None
        target = TargetInfo(okta_id, "", "", "", "", {}, groups)
        try:
            delegation = delegation_for(
                user=self.requester, kind=self.kind, target=target, candidates=self.candidates
            )
        except OutOfScope:
            return V.OUT_OF_SCOPE, "no delegation of your team covers this person", user, None
        if okta_id in self.open:
            return V.OPEN_REQUEST, f"request #{self.open[okta_id]} is already open", user, None
        return V.FOUND, "", user, delegation


def open_requests_for(kind: str, okta_ids: list[str]) -> dict[str, int]:
    """Okta id → an open (or scheduled) request for this action, in chunks the database takes."""
    found: dict[str, int] = {}
    for start in range(0, len(okta_ids), 900):
        found.update(
            ActionRequest.objects.filter(
                kind=kind,
                state__in=_PENDING_STATES,
                target_okta_id__in=okta_ids[start : start + 900],
            ).values_list("target_okta_id", "pk")
        )
    return found


def _row(batch: Batch, parsed: bulk_csv.ParsedRow, judged: tuple) -> BatchRow:
    verdict, detail, user, delegation = judged
    profile = dict(user.get("profile") or {})
    name = " ".join(p for p in (profile.get("firstName"), profile.get("lastName")) if p)
    return BatchRow(
        batch=batch,
        line=parsed.line,
        identity=parsed.identity,
        reason=parsed.reason,
        ticket=parsed.ticket,
        scheduled_for=parsed.scheduled_for,
        verdict=verdict,
        detail=detail[:300],
        okta_id=str(user.get("id", "")),
        login=str(profile.get("login", "")),
        email=str(profile.get("email", "")),
        name=name,
        status=str(user.get("status", "")),
        profile=profile if verdict == V.FOUND else {},
        delegation=delegation,
    )


def _one_approver_group(rows: list[BatchRow]) -> tuple[Delegation | None, int]:
    """The batch goes to one approver group: the strictest delegation of the most rows. Rows
    under another approver group are moved out (a separate batch); returns (delegation, moved)."""
    valid = [r for r in rows if r.delegation is not None]
    if not valid:
        return None, 0
    tally: dict[int | None, int] = {}
    for r in valid:
        gid = r.delegation.approver_group_id if r.delegation else None
        tally[gid] = tally.get(gid, 0) + 1
    group_id = max(tally, key=lambda g: tally[g])
    moved = 0
    for r in valid:
        if r.delegation and r.delegation.approver_group_id != group_id:
            r.verdict, r.delegation = V.OUT_OF_SCOPE, None
            r.detail = "approved by another approver group: submit it in a separate batch"
            moved += 1
    strictest = max(
        (r.delegation for r in valid if r.delegation),
        key=lambda d: (d.approvals_needed, -d.expiry_hours),
    )
    return strictest, moved


def batch_preview(
    *,
    requester: User,
    choice: BulkChoice,
    data: bytes | None = None,
    filename: str = "",
    group_id: str = "",
    ip: str = "",
) -> Batch:
    """A draft batch with a verdict for every row of the file (or member of the Okta group).
    Raises NotAllowed / InvalidRequest (the file as a whole, in words) / TargetLookupFailed."""
    systems, options = _checked(requester, choice)
    if data is not None:
        try:
            parsed = bulk_csv.parse(data).rows
        except bulk_csv.CsvRejected as exc:
            raise InvalidRequest(str(exc)) from None
        source, detail = Batch.Source.FILE, filename[:200]
    elif group_id.strip():
        parsed, source, detail = _rows_from_group(group_id), Batch.Source.GROUP, group_id.strip()
    else:
        raise InvalidRequest("Upload a CSV file or give an Okta group.")
    judge = _Judge(requester, choice.kind, parsed)
    with transaction.atomic():
        batch = Batch.objects.create(
            kind=choice.kind,
            systems=systems,
            options=options,
            reason=choice.reason.strip(),
            ticket=choice.ticket.strip(),
            source=source,
            source_detail=detail,
            requester=requester,
        )
        rows = [_row(batch, p, judge.verdict(p)) for p in parsed]
        delegation, _ = _one_approver_group(rows)
        BatchRow.objects.bulk_create(rows, batch_size=1000)
        _summarise(batch, rows, delegation, judge.lookup.report())
        audit_record(
            action=AuditEvent.Action.USER_SEARCH,
            actor=requester,
            obj=batch,
            ip=ip,
            details={"bulk_preview": batch.pk, "rows": len(rows), "source": source},
        )
    return batch


def _summarise(
    batch: Batch, rows: list[BatchRow], delegation: Delegation | None, lookup: dict[str, Any]
) -> None:
    counts = {v: 0 for v in V.values}
    for r in rows:
        counts[r.verdict] += 1
    counts["valid"], counts["total"] = counts[V.FOUND], len(rows)
    batch.counts = counts
    batch.lookup = {**lookup, "expiry_hours": delegation.expiry_hours if delegation else 24}
    if delegation is not None:
        batch.approver_group = delegation.approver_group
        batch.approvals_needed = delegation.approvals_needed
    batch.fingerprint = batch_fingerprint(batch, [r.okta_id for r in rows if r.valid])
    batch.save(
        update_fields=["counts", "lookup", "approver_group", "approvals_needed", "fingerprint"]
    )


def batch_submit(*, batch_id: int, actor: User, ip: str = "") -> Batch:
    """The requester sends their previewed batch to the approvers (only its found rows go on)."""
    now = timezone.now()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch_id)
        if batch.requester_id != actor.pk or not permissions.can_request(actor):
            raise NotAllowed("Only the person who uploaded the batch may submit it.")
        ensure_mfa(actor)
        if batch.state != Batch.State.DRAFT:
            raise InvalidTransition(f"This batch is {batch.get_state_display().lower()} already.")
        if batch.valid_count == 0:
            raise InvalidRequest("No row of this batch can go on: there is nothing to submit.")
        batch.state, batch.submitted_at = Batch.State.PENDING_APPROVAL, now
        batch.expires_at = now + timedelta(hours=int(batch.lookup.get("expiry_hours", 24)))
        batch.save(update_fields=["state", "submitted_at", "expires_at", "updated_at"])
        audit_record(
            action=AuditEvent.Action.BATCH_SUBMITTED,
            actor=actor,
            obj=batch,
            ip=ip,
            details={
                "kind": batch.kind,
                "systems": batch.systems,
                "counts": batch.counts,
                "reason": batch.reason,
                "ticket": batch.ticket,
                "source": batch.source,
                "fingerprint": batch.fingerprint,
            },
        )
        transaction.on_commit(functools.partial(notifications.notify_batch_approvers, batch.pk))
    return batch
