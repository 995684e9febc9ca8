"""The audit trail's tail: a signed head, the verified-up-to mark, sealed events, signed checkpoints."""

# ruff: noqa: S608  (raw SQL with a constant table name is the point: it plays the attacker)

from __future__ import annotations

import json
import threading
from datetime import timedelta

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from offboarding import audit
from offboarding.audit import chain as audit_chain
from offboarding.audit import checkpoints
from offboarding.models import AuditChainHead, AuditCheckpoint, AuditEvent, AuditWatermark
from offboarding.runner import sweep

pytestmark = pytest.mark.django_db
TABLE = AuditEvent._meta.db_table
HEAD = AuditChainHead._meta.db_table


def raw(sql: str, params=()) -> None:
    """Tamper the way an attacker with database access (but not the audit key) would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def record(n: int, actor) -> list[AuditEvent]:
    for i in range(n):
        audit.audit_record(action=AuditEvent.Action.USER_SEARCH, actor=actor, details={"q": i})
    return list(AuditEvent.objects.order_by("seq"))


def busy(patch) -> None:
    """Another writer holds the linking lock: a try fails, a wait succeeds (when it is released)."""
    claim = audit_chain._claim_head
    patch.setattr(
        audit_chain,
        "_claim_head",
        lambda *, wait, relaxed=False: claim(wait=wait, relaxed=relaxed) if wait else None,
    )


@pytest.fixture
def chain(helpdesk):
    return record(5, helpdesk)


@pytest.fixture
def sink(tmp_path, settings):
    path = tmp_path / "checkpoints.jsonl"
    settings.PORTAL_AUDIT_CHECKPOINT_SINK = f"file:{path}"
    settings.PORTAL_AUDIT_CHECKPOINT_EVERY = 3
    settings.PORTAL_AUDIT_CHECKPOINT_MINUTES = 10
    return path


def test_the_head_is_signed(chain):
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (5, chain[-1].hash) and len(head.signature) == 64


def test_a_truncated_tail_with_a_repointed_head_is_detected(chain):
    raw(f"DELETE FROM {TABLE} WHERE seq > 3")
    raw(f"UPDATE {HEAD} SET seq = 3, hash = %s", [chain[2].hash])
    report = audit.audit_chain_verify()
    assert not report.intact and "chain head is not signed" in report.problem


def test_a_truncated_tail_with_the_head_deleted_is_detected(chain):
    raw(f"DELETE FROM {TABLE} WHERE seq > 3")
    raw(f"DELETE FROM {HEAD}")
    report = audit.audit_chain_verify()
    assert not report.intact and "chain head is missing" in report.problem


def test_a_head_reset_to_a_fresh_install_is_detected_while_events_remain(chain):
    raw(f"DELETE FROM {TABLE} WHERE seq > 2")
    raw(f"UPDATE {HEAD} SET seq = 0, hash = '', signature = ''")
    assert "chain head is missing" in audit.audit_chain_verify().problem


def test_an_older_signed_head_replayed_after_truncation_is_caught_by_the_mark(helpdesk):
    record(3, helpdesk)
    old = AuditChainHead.objects.values("seq", "hash", "signature").get(pk=1)
    record(2, helpdesk)
    audit.audit_watermark_save(audit.audit_chain_verify())  # verified up to 5
    raw(f"DELETE FROM {TABLE} WHERE seq > 3")
    raw(f"UPDATE {HEAD} SET seq = %s, hash = %s, signature = %s", list(old.values()))
    report = audit.audit_chain_verify()
    assert not report.intact and "verified up to 5 events, found 3" in report.problem


def test_a_forged_mark_is_detected(chain):
    audit.audit_watermark_save(audit.audit_chain_verify())
    AuditWatermark.objects.filter(pk=1).update(seq=2, hash=chain[1].hash)
    assert "mark is not signed" in audit.audit_verify_current().problem
    assert "mark is not signed" in audit.audit_chain_verify().problem


def test_incremental_verification_reads_only_new_events_and_moves_the_mark(chain, helpdesk):
    first = audit.audit_verify_current()
    assert first.intact and first.verified_from == 0 and AuditWatermark.objects.get().seq == 5
    record(2, helpdesk)
    # An edit before the mark is out of the incremental check's reach; the full run finds it.
    raw(f"UPDATE {TABLE} SET target = 'x' WHERE seq = 2")
    second = audit.audit_verify_current()
    assert second.intact and second.verified_from == 5 and second.count == 7
    assert AuditWatermark.objects.get().seq == 7
    assert audit.audit_chain_verify().broken_at == 2


def test_incremental_verification_detects_truncation_below_the_mark(chain):
    audit.audit_verify_current()
    raw(f"DELETE FROM {TABLE} WHERE seq >= 4")
    report = audit.audit_verify_current()
    assert not report.intact and report.broken_at == 5


def test_a_busy_chain_seals_the_event_and_links_it_after(chain, helpdesk, monkeypatch):
    busy(monkeypatch)
    event = audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk)
    assert event.seq is None and AuditEvent.objects.filter(seq__isnull=True).count() == 1
    report = audit.audit_chain_verify()
    assert report.intact and (report.count, report.sealed) == (5, 1)
    assert str(report) == "chain intact: 5 events (+1 sealed, being linked)"
    assert audit.audit_chain_link() == 1
    linked = AuditEvent.objects.get(pk=event.pk)
    assert (linked.seq, linked.prev_hash) == (6, chain[-1].hash)
    assert str(audit.audit_chain_verify()) == "chain intact: 6 events"


def test_a_sealed_event_changed_before_linking_is_never_linked(chain, helpdesk, monkeypatch):
    busy(monkeypatch)
    event = audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk, target="a@x")
    raw(f"UPDATE {TABLE} SET target = 'b@x' WHERE id = %s", [event.pk])
    assert "does not match its seal" in audit.audit_chain_verify().problem
    assert audit.audit_chain_link() == 0
    assert AuditEvent.objects.get(pk=event.pk).seq is None


def test_the_sweeper_links_events_a_crash_left_sealed(chain, helpdesk, monkeypatch):
    with monkeypatch.context() as patch:
        busy(patch)
        audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk)
    assert sweep().linked == 1
    assert str(audit.audit_chain_verify()) == "chain intact: 6 events"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
def test_postgresql_lets_a_sealed_event_be_linked_once_and_never_changed(
    chain, helpdesk, monkeypatch
):
    busy(monkeypatch)
    event = audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk)
    for sql in (
        f"UPDATE {TABLE} SET target = 'x' WHERE id = {event.pk}",
        f"UPDATE {TABLE} SET seq = 99, target = 'x' WHERE id = {event.pk}",
        f"DELETE FROM {TABLE} WHERE id = {event.pk}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert audit.audit_chain_link() == 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET seq = 99 WHERE id = {event.pk}")


def test_checkpoints_are_sent_every_n_events_or_m_minutes(sink, helpdesk):
    now = timezone.now()
    assert audit.audit_checkpoint_write(now=now) is None  # nothing recorded yet
    record(2, helpdesk)
    assert audit.audit_checkpoint_write(now=now).seq == 2  # the first one
    record(2, helpdesk)
    assert audit.audit_checkpoint_write(now=now + timedelta(minutes=1)) is None
    record(1, helpdesk)
    assert audit.audit_checkpoint_write(now=now + timedelta(minutes=2)).seq == 5  # 3 events
    assert audit.audit_checkpoint_write(now=now + timedelta(hours=1)) is None  # none added
    record(1, helpdesk)
    assert audit.audit_checkpoint_write(now=now + timedelta(minutes=13)).seq == 6  # 10 minutes
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert [r["seq"] for r in lines] == [2, 5, 6] and set(lines[0]) == {"seq", "hash", "at", "hmac"}
    assert audit.audit_checkpoint_last().seq == 6


def test_the_sweeper_sends_the_checkpoint(sink, chain):
    assert sweep().checkpoint == 5
    assert json.loads(sink.read_text())["seq"] == 5


def test_verify_audit_detects_truncation_against_the_checkpoints(sink, chain, capsys):
    audit.audit_checkpoint_write()
    call_command("verify_audit", checkpoints=str(sink))
    assert "checkpoints agree: 1 checked, the latest #5" in capsys.readouterr().out
    raw(f"DELETE FROM {TABLE} WHERE seq > 3")
    raw(f"UPDATE {HEAD} SET seq = 3, hash = %s", [chain[2].hash])
    outcome = audit.audit_checkpoints_verify(sink.read_text().splitlines())
    assert not outcome.intact and "truncated" in outcome.problem and "holds 3" in outcome.problem


def test_verify_audit_detects_a_full_wipe_against_the_checkpoints(sink, chain):
    audit.audit_checkpoint_write()
    raw(f"DELETE FROM {TABLE}")
    raw(f"DELETE FROM {HEAD}")
    assert audit.audit_chain_verify().intact  # alone, a wipe reads as a fresh install
    with pytest.raises(CommandError, match="the trail was wiped") as info:
        call_command("verify_audit", checkpoints=str(sink))
    assert info.value.returncode == 1


def test_a_forged_checkpoint_line_is_refused(sink, chain):
    audit.audit_checkpoint_write()
    line = json.loads(sink.read_text())
    line["seq"] = 3
    outcome = audit.audit_checkpoints_verify([json.dumps(line)])
    assert not outcome.intact and "not signed with the audit key" in outcome.problem


def test_syslog_lines_are_read_past_their_prefix(settings, chain, monkeypatch):
    sent = []
    monkeypatch.setattr(checkpoints, "_send_syslog", sent.append)
    settings.PORTAL_AUDIT_CHECKPOINT_SINK = "syslog"
    assert audit.audit_checkpoint_write().sent_at is not None
    outcome = audit.audit_checkpoints_verify([f"Dec  1 12:00:00 host portal[1]: {sent[0]}"])
    assert outcome.intact and outcome.latest_seq == 5


def test_the_https_sink_posts_the_signed_record(settings, chain, monkeypatch):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), json.loads(request.content)))
        return httpx.Response(202)

    monkeypatch.setattr(checkpoints, "https_transport", httpx.MockTransport(handler))
    monkeypatch.setattr(
        "connections.url_policy.resolver", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443))]
    )
    settings.PORTAL_AUDIT_CHECKPOINT_SINK = "https://siem.example.com/ingest"
    assert audit.audit_checkpoint_write().sent_at is not None
    assert seen[0][0] == "https://siem.example.com/ingest" and seen[0][1]["seq"] == 5


def test_the_https_sink_goes_through_the_url_policy(settings, chain, monkeypatch):
    monkeypatch.setattr(
        "connections.url_policy.resolver", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.5", 443))]
    )
    settings.PORTAL_AUDIT_CHECKPOINT_SINK = "https://siem.example.com/ingest"
    checkpoint = audit.audit_checkpoint_write()
    assert checkpoint.sent_at is None and "private" in checkpoint.error
    assert audit.audit_checkpoint_last() is None  # and the next sweep tries again
    assert audit.audit_checkpoint_write() is not None


def test_a_repointed_head_is_never_checkpointed(sink, chain):
    raw(f"UPDATE {HEAD} SET seq = 3, hash = %s", [chain[2].hash])
    assert audit.audit_checkpoint_write() is None and not AuditCheckpoint.objects.exists()


def test_the_audit_page_shows_a_current_verification_and_the_last_checkpoint(
    client, auditor, sink, chain
):
    client.force_login(auditor)
    html = client.get(reverse("offboarding:audit")).content.decode()
    assert "No signed checkpoint has been sent" in html
    assert "Intact up to event #" in html and "checked on this page load" in html
    audit.audit_checkpoint_write(force=True)
    record(1, auditor)  # after the mark: the next load checks it
    raw(f"UPDATE {TABLE} SET target = 'x' WHERE seq = (SELECT MAX(seq) FROM {TABLE})")
    html = client.get(reverse("offboarding:audit")).content.decode()
    assert "Last signed checkpoint sent outside the database: event #" in html
    assert "Checked on this page load: chain broken at sequence" in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers anyway")
@pytest.mark.django_db(transaction=True)
def test_an_event_sealed_while_the_chain_is_busy_is_linked_when_the_holder_commits():
    AuditChainHead.objects.get_or_create(pk=1)  # as migrated (a transactional test may flush it)
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor_label="holder")
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(10)
    # The head is held: this event commits sealed, in parallel, and its own attempt to link finds
    # the head busy; the holder links it after its commit.
    event = audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor_label="busy")
    assert event.seq is None and AuditEvent.objects.get(pk=event.pk).seq is None
    release.set()
    thread.join(10)
    assert AuditEvent.objects.get(pk=event.pk).seq == 2
    assert str(audit.audit_chain_verify()) == "chain intact: 2 events"


def test_the_next_append_links_events_left_sealed_before_its_own(chain, helpdesk, monkeypatch):
    with monkeypatch.context() as patch:
        busy(patch)
        sealed = audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk)
    after = audit.audit_record(action=AuditEvent.Action.USER_VIEW, actor=helpdesk)
    assert (AuditEvent.objects.get(pk=sealed.pk).seq, after.seq) == (6, 7)
    assert str(audit.audit_chain_verify()) == "chain intact: 7 events"


def test_the_page_check_goes_on_from_where_the_last_load_stopped(chain):
    first = audit.audit_verify_current(limit=2)
    assert (first.intact, first.count, first.remaining) == (True, 2, 3)
    assert str(first) == "chain intact up to event 2 (3 newer to check)"
    second = audit.audit_verify_current(limit=2)
    assert (second.verified_from, second.count, second.remaining) == (2, 4, 1)
    raw(f"DELETE FROM {TABLE} WHERE seq = 5")
    raw(f"UPDATE {HEAD} SET seq = 4, hash = %s", [chain[3].hash])
    third = audit.audit_verify_current(limit=2)  # reaches the head: checked, and caught
    assert not third.intact and "chain head is not signed" in third.problem
