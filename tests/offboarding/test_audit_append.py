"""Appends made outside any transaction (search, API calls): on PostgreSQL they take the two-round-
trip path of offboarding/audit/chain.py (`_append_alone`); the chain's guarantees are the same."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from offboarding import audit
from offboarding.audit import chain as audit_chain
from offboarding.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)
SEARCH = AuditEvent.Action.USER_SEARCH


@pytest.fixture(autouse=True)
def _head():
    AuditChainHead.objects.get_or_create(pk=1)  # as migrated (a transactional test may flush it)


def test_appends_outside_a_transaction_are_linked_in_order_under_a_signed_head():
    events = [
        audit.audit_record(action=SEARCH, actor_label="a", details={"q": i}) for i in range(5)
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    stored = list(AuditEvent.objects.order_by("seq").values_list("pk", "seq", "hash", "prev_hash"))
    assert [(pk, seq, h) for pk, seq, h, _ in stored] == [(e.pk, e.seq, e.hash) for e in events]
    assert [prev for *_, prev in stored[1:]] == [h for _, _, h, _ in stored[:-1]]
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (5, events[-1].hash) and head.signature
    assert str(audit.audit_chain_verify()) == "chain intact: 5 events"


def test_an_append_that_fails_midway_leaves_nothing_and_frees_the_chain(monkeypatch):
    audit.audit_record(action=SEARCH, actor_label="a")

    def broken(*args, **kwargs):
        raise RuntimeError("hash failed")

    with monkeypatch.context() as patch:
        patch.setattr(audit_chain, "compute_hash", broken)
        with pytest.raises(RuntimeError):
            audit.audit_record(action=SEARCH, actor_label="lost")
    assert not AuditEvent.objects.filter(actor_label="lost").exists()
    assert AuditChainHead.objects.get(pk=1).seq == 1
    # The head was released: another connection links its event at once (not sealed).
    seqs: list[int | None] = []

    def other() -> None:
        try:
            seqs.append(audit.audit_record(action=SEARCH, actor_label="b").seq)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(30)
    assert seqs == [2] and str(audit.audit_chain_verify()) == "chain intact: 2 events"


def test_events_left_sealed_are_linked_by_the_next_append(monkeypatch):
    audit.audit_record(action=SEARCH, actor_label="a")
    claim = audit_chain._claim_head
    with monkeypatch.context() as patch:  # another writer holds the head for this one's life
        patch.setattr(
            audit_chain,
            "_claim_head",
            lambda *, wait, relaxed=False: claim(wait=wait, relaxed=relaxed) if wait else None,
        )
        with transaction.atomic():
            sealed = audit.audit_record(action=SEARCH, actor_label="sealed")
    assert AuditEvent.objects.get(pk=sealed.pk).seq is None
    after = audit.audit_record(action=SEARCH, actor_label="after")
    assert (AuditEvent.objects.get(pk=sealed.pk).seq, after.seq) == (2, 3)
    assert str(audit.audit_chain_verify()) == "chain intact: 3 events"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers anyway")
def test_concurrent_writers_lose_nothing_and_leave_one_intact_chain():
    def writer(n: int) -> None:
        try:
            for i in range(25):
                audit.audit_record(action=SEARCH, actor_label=f"w{n}", details={"i": i})
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    audit.audit_chain_link()  # what a writer's last look left to the sweeper, if anything
    assert AuditEvent.objects.count() == 100
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert str(audit.audit_chain_verify()) == "chain intact: 100 events"
