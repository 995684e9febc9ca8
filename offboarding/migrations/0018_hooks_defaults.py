"""Issue 14 data: the default event policies and the System Log reconciliation's schedule.

The system actor ("okta-events") and its delegation ("Okta event policies") are made on first use by
`offboarding.services.system_actor.system_actor()` (and by `manage.py okta_hook_setup`).
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

POLICIES = (
    ("User suspended in Okta", "user.lifecycle.suspend", "reset_sessions", "automatic"),
    (
        "Suspicious activity reported by the user",
        "user.account.report_suspicious_activity_by_enduser",
        "reset_sessions",
        "automatic",
    ),
    # Narrowed to the chosen "offboarding" group on the Policies page; no group, no match.
    ("Added to the offboarding group", "group.user_membership.add", "offboard", "approval"),
    ("Unsuspended after the portal acted", "user.lifecycle.unsuspend", "drift_alert", "approval"),
    ("Reactivated after the portal acted", "user.lifecycle.reactivate", "drift_alert", "approval"),
)


def create_defaults(apps, schema_editor):
    policy_model = apps.get_model("offboarding", "EventPolicy")
    if not policy_model.objects.exists():
        for name, event_type, action, mode in POLICIES:
            policy_model.objects.create(name=name, event_type=event_type, action=action, mode=mode)


RECONCILER = "okta-events-reconcile"


def add_reconciler(apps, schema_editor):
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=RECONCILER,
        defaults={
            "func": "offboarding.tasks.reconcile_okta_events",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
            "next_run": start,
        },
    )


def remove_reconciler(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=RECONCILER).delete()


def remove_defaults(apps, schema_editor):
    apps.get_model("offboarding", "EventPolicy").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("offboarding", "0017_hooks"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [
        migrations.RunPython(create_defaults, remove_defaults),
        migrations.RunPython(add_reconciler, remove_reconciler),
    ]
