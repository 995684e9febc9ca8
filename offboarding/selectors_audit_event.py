"""One audit event with its neighbours, for the auditor's event page (issue 16)."""

from __future__ import annotations

from dataclasses import dataclass

from offboarding.models import AuditEvent


@dataclass(frozen=True)
class EventView:
    event: AuditEvent
    older_seq: int | None
    newer_seq: int | None


def audit_event_by_seq(seq: int) -> EventView | None:
    """The linked event numbered `seq` and the numbers of the events either side, or None."""
    event = AuditEvent.objects.select_related("actor").filter(seq=seq).first()
    if event is None:
        return None
    older = AuditEvent.objects.filter(seq__lt=seq).order_by("-seq").values_list("seq", flat=True)
    newer = AuditEvent.objects.filter(seq__gt=seq).order_by("seq").values_list("seq", flat=True)
    return EventView(event, older.first(), newer.first())
