# Issue 15 (bulk): Batch, BatchRow, BatchDecision and ActionRequest.batch (schema only).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("offboarding", "0015_reinstate_undoes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Batch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("reset_sessions", "Reset sessions"),
                            ("offboard", "Offboard"),
                            ("reinstate", "Reinstate"),
                        ],
                        max_length=20,
                    ),
                ),
                ("systems", models.JSONField(default=list)),
                ("options", models.JSONField(blank=True, default=dict)),
                ("reason", models.TextField()),
                ("ticket", models.CharField(blank=True, max_length=100)),
                (
                    "source",
                    models.CharField(
                        choices=[("file", "A CSV file"), ("group", "An Okta group")], max_length=8
                    ),
                ),
                (
                    "source_detail",
                    models.CharField(blank=True, help_text="File name or group.", max_length=200),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("draft", "Preview"),
                            ("pending_approval", "Pending approval"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("discarded", "Discarded"),
                        ],
                        default="draft",
                        max_length=20,
                    ),
                ),
                ("state_note", models.TextField(blank=True)),
                (
                    "counts",
                    models.JSONField(blank=True, default=dict, help_text="Rows per verdict."),
                ),
                (
                    "lookup",
                    models.JSONField(blank=True, default=dict, help_text="How Okta was read."),
                ),
                ("approvals_needed", models.PositiveSmallIntegerField(default=1)),
                ("fingerprint", models.CharField(blank=True, max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                (
                    "approver_group",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="auth.group",
                    ),
                ),
                (
                    "requester",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="batches",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="actionrequest",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="requests",
                to="offboarding.batch",
            ),
        ),
        migrations.CreateModel(
            name="BatchDecision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        choices=[("approved", "Approved"), ("rejected", "Rejected")], max_length=10
                    ),
                ),
                ("comment", models.TextField(blank=True)),
                ("fingerprint", models.CharField(max_length=64)),
                ("at", models.DateTimeField(auto_now_add=True)),
                (
                    "approver",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="batch_decisions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="decisions",
                        to="offboarding.batch",
                    ),
                ),
            ],
            options={
                "ordering": ["at", "id"],
            },
        ),
        migrations.CreateModel(
            name="BatchRow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("line", models.PositiveIntegerField()),
                ("identity", models.CharField(max_length=254)),
                ("reason", models.TextField(blank=True)),
                ("ticket", models.CharField(blank=True, max_length=100)),
                ("scheduled_for", models.DateTimeField(blank=True, null=True)),
                (
                    "verdict",
                    models.CharField(
                        choices=[
                            ("found", "Found"),
                            ("invalid", "Not readable"),
                            ("unknown", "Unknown in Okta"),
                            ("protected", "Protected"),
                            ("out_of_scope", "Outside your scope"),
                            ("duplicate", "Duplicate in the file"),
                            ("open_request", "Already has an open request"),
                            ("offboarded", "Already offboarded"),
                        ],
                        max_length=16,
                    ),
                ),
                ("detail", models.CharField(blank=True, max_length=300)),
                ("okta_id", models.CharField(blank=True, max_length=64)),
                ("login", models.CharField(blank=True, max_length=254)),
                ("email", models.CharField(blank=True, max_length=254)),
                ("name", models.CharField(blank=True, max_length=254)),
                ("status", models.CharField(blank=True, max_length=32)),
                ("profile", models.JSONField(blank=True, default=dict)),
                (
                    "action_request",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="batch_row",
                        to="offboarding.actionrequest",
                    ),
                ),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rows",
                        to="offboarding.batch",
                    ),
                ),
                (
                    "delegation",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="offboarding.delegation",
                    ),
                ),
            ],
            options={
                "ordering": ["batch_id", "line", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="batch",
            index=models.Index(
                fields=["state", "approver_group"], name="offboarding_state_881e61_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="batchdecision",
            constraint=models.UniqueConstraint(
                fields=("batch", "approver", "fingerprint"), name="batch_one_decision_per_person"
            ),
        ),
        migrations.AddIndex(
            model_name="batchrow",
            index=models.Index(fields=["batch", "verdict"], name="offboarding_batch_i_341b7f_idx"),
        ),
    ]
