"""Issue 14 data: the default event policies and the system actor that automatic runs act as.

The system actor ("okta-events") cannot sign in (inactive, no usable password). Its team's
delegation is what scopes every event-driven request: Connection admins narrow it (target groups,
approvers, "reset sessions without approval") on the Policies page like any other delegation.
"""

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import migrations
from django.utils import timezone

SYSTEM_USERNAME = "okta-events"
SYSTEM_TEAM = "Okta events (system)"
DELEGATION = "Okta event policies"

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
    group_model = apps.get_model("auth", "Group")
    user_model = apps.get_model("auth", "User")
    delegation_model = apps.get_model("offboarding", "Delegation")
    policy_model = apps.get_model("offboarding", "EventPolicy")
    team, _ = group_model.objects.get_or_create(name=SYSTEM_TEAM)
    approvers, _ = group_model.objects.get_or_create(name="Approver")
    actor, created = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "first_name": "Okta", "last_name": "events"},
    )
    if created:
        actor.password = make_password(None)
        actor.save(update_fields=["password"])
    actor.groups.add(team)
    if not delegation_model.objects.filter(name=DELEGATION).exists():
        delegation_model.objects.create(
            name=DELEGATION,
            team=team,
            allowed_actions=["reset_sessions", "offboard"],
            target_group_ids=[],
            approver_group=approvers,
            approvals_needed=1,
            expiry_hours=72,
            reset_sessions_without_approval=True,
        )
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
    apps.get_model("offboarding", "Delegation").objects.filter(name=DELEGATION).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("offboarding", "0012_hooks"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [
        migrations.RunPython(create_defaults, remove_defaults),
        migrations.RunPython(add_reconciler, remove_reconciler),
    ]
