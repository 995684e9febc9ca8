"""The audit chain: append-only, tamper-evident (edit, delete, insert, reorder, re-key), never forked."""

# ruff: noqa: S608  (raw SQL with a constant table name is the point: it plays the attacker)

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from offboarding import audit
from offboarding.models import AppendOnlyError, AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db
TABLE = AuditEvent._meta.db_table


@pytest.fixture
def chain(helpdesk):
    for n in range(5):
        audit.audit_record(
            action=AuditEvent.Action.USER_SEARCH, actor=helpdesk, details={"query": f"q{n}"}
        )
    return list(AuditEvent.objects.order_by("seq"))


def raw(sql: str, params=()) -> None:
    """Tamper the way an attacker with database access would (the trigger switched off on PG)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def test_events_link_into_an_intact_chain(chain):
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:], strict=False))
    report = audit.audit_chain_verify()
    assert report.intact and str(report) == "chain intact: 5 events"


def test_an_edited_event_is_detected(chain):
    raw(f"UPDATE {TABLE} SET details = %s WHERE seq = 3", ['{"query": "innocent"}'])
    report = audit.audit_chain_verify()
    assert (report.intact, report.broken_at) == (False, 3)


def test_a_deleted_event_is_detected(chain):
    raw(f"DELETE FROM {TABLE} WHERE seq = 2")
    assert audit.audit_chain_verify().broken_at == 2


def test_a_deleted_last_event_is_detected_by_the_chain_head(chain):
    raw(f"DELETE FROM {TABLE} WHERE seq = 5")
    report = audit.audit_chain_verify()
    assert not report.intact and report.broken_at == 5


def test_an_inserted_event_is_detected(chain):
    raw(f"UPDATE {TABLE} SET seq = seq + 100 WHERE seq >= 3")
    raw(f"UPDATE {TABLE} SET seq = seq - 99 WHERE seq >= 103")
    forged = chain[1]
    raw(
        f"INSERT INTO {TABLE} (seq, at, actor_label, action, object_type, object_id, target, ip, details, prev_hash, hash) "
        "VALUES (3, %s, 'mallory', 'export', '', '', '', '', '{}', %s, %s)",
        [forged.at, forged.hash, "f" * 64],
    )
    assert audit.audit_chain_verify().broken_at == 3


def test_reordered_events_are_detected(chain):
    raw(f"UPDATE {TABLE} SET seq = 1000 WHERE seq = 2")
    raw(f"UPDATE {TABLE} SET seq = 2 WHERE seq = 3")
    raw(f"UPDATE {TABLE} SET seq = 3 WHERE seq = 1000")
    assert audit.audit_chain_verify().broken_at == 2


def test_a_chain_recomputed_without_the_key_is_detected(chain):
    wrong = b"attacker-does-not-know-the-key"
    prev = audit.GENESIS_HASH
    for event in chain:
        event.prev_hash = prev
        if event.seq == 2:
            event.details = {"query": "rewritten"}
        event.hash = audit.compute_hash(event, key=wrong)
        raw(
            f"UPDATE {TABLE} SET details = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [
                '{"query": "rewritten"}' if event.seq == 2 else f'{{"query": "q{event.seq - 1}"}}',
                event.prev_hash,
                event.hash,
                event.seq,
            ],
        )
        prev = event.hash
    raw("UPDATE offboarding_auditchainhead SET hash = %s", [prev])
    assert audit.audit_chain_verify().broken_at == 1


def test_the_orm_refuses_updates_and_deletes(chain):
    event = chain[0]
    event.details = {"x": 1}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(action="export")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert audit.audit_chain_verify().intact


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
def test_postgresql_refuses_raw_update_and_delete(chain):
    from django.db import DatabaseError

    for sql in (
        f"UPDATE {TABLE} SET action = 'export' WHERE seq = 1",
        f"DELETE FROM {TABLE} WHERE seq = 1",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)


def test_secrets_never_enter_the_trail(helpdesk):
    event = audit.audit_record(
        action=AuditEvent.Action.CONNECTION_CHANGED,
        actor=helpdesk,
        details={"api_token": "SSWS abc", "fields": ["token"]},
    )
    assert event.details == {"api_token": "[removed]", "fields": ["token"]}


def test_verify_audit_command_reports_and_exits_non_zero_when_broken(chain, capsys):
    call_command("verify_audit")
    assert capsys.readouterr().out.strip() == "chain intact: 5 events"
    raw(f"UPDATE {TABLE} SET target = 'someone else' WHERE seq = 4")
    with pytest.raises(CommandError, match="chain broken at sequence 4") as info:
        call_command("verify_audit")
    assert info.value.returncode == 1


def test_sign_in_and_failed_sign_in_are_recorded_without_the_password(client, helpdesk, password):
    assert client.login(username="helpdesk", password=password)
    client.logout()
    assert not client.login(username="helpdesk", password="wrong-password-123")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["sign_in", "sign_out", "sign_in_failed"]
    failed = AuditEvent.objects.get(action="sign_in_failed")
    assert failed.actor_label == "helpdesk"
    assert "wrong-password" not in str(failed.details) and password not in str(failed.details)


def test_connection_changes_are_recorded_with_field_names_only(connection_admin):
    from offboarding.signals import on_connection_changed

    class Conn:
        pk = 7
        system = "okta"

        def __str__(self):
            return "Okta (acme)"

    on_connection_changed(
        None,
        connection=Conn(),
        actor=connection_admin,
        action="updated",
        changed_fields=["secret", "domain"],
    )
    event = AuditEvent.objects.get(action="connection_changed")
    assert event.details == {"change": "updated", "system": "okta", "fields": ["domain", "secret"]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers anyway")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    AuditChainHead.objects.get_or_create(pk=1)
    errors = []

    def write(n):
        try:
            for i in range(10):
                audit.audit_record(
                    action=AuditEvent.Action.USER_SEARCH, actor_label=f"w{n}", details={"i": i}
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert str(audit.audit_chain_verify()) == "chain intact: 80 events"


def test_yes_no_options_named_like_secrets_are_kept_but_values_are_not(helpdesk):
    event = audit.audit_record(
        action=AuditEvent.Action.REQUEST_SUBMITTED,
        actor=helpdesk,
        details={
            "options": {"okta_oauth_tokens": True, "forget_devices": False},
            "client_secret": "hunter2-value",
            "password": 12345,
        },
    )
    assert event.details == {
        "options": {"okta_oauth_tokens": True, "forget_devices": False},
        "client_secret": "[removed]",
        "password": "[removed]",
    }
