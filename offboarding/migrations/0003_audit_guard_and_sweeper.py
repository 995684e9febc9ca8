"""The audit chain head row; on PostgreSQL a trigger that refuses UPDATE/DELETE of audit events;
and the sweeper schedule (every 30 s: two one-minute schedules half a minute apart, catch-up off).
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION offboarding_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS offboarding_auditevent_append_only ON offboarding_auditevent;
CREATE TRIGGER offboarding_auditevent_append_only
    BEFORE UPDATE OR DELETE ON offboarding_auditevent
    FOR EACH ROW EXECUTE FUNCTION offboarding_auditevent_append_only();
"""

DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS offboarding_auditevent_append_only ON offboarding_auditevent;
DROP TRIGGER IF EXISTS offboarding_auditevent_no_truncate ON offboarding_auditevent;
DROP FUNCTION IF EXISTS offboarding_auditevent_append_only();
"""

SWEEPERS = ("offboarding-sweeper-a", "offboarding-sweeper-b")


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL, params=None)


def add_chain_head(apps, schema_editor):
    apps.get_model("offboarding", "AuditChainHead").objects.get_or_create(pk=1)


def add_sweeper(apps, schema_editor):
    schedule = apps.get_model("django_q", "Schedule")
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    for offset, name in enumerate(SWEEPERS):
        schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": "offboarding.tasks.sweep",
                "schedule_type": "I",  # Schedule.MINUTES
                "minutes": 1,
                "repeats": -1,
                "next_run": start + timedelta(seconds=30 * offset),
            },
        )


def remove_sweeper(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SWEEPERS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("offboarding", "0002_requests_steps_audit"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [
        migrations.RunPython(add_chain_head, migrations.RunPython.noop),
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RunPython(add_sweeper, remove_sweeper),
    ]
