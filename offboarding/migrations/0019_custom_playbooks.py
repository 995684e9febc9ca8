# Issue 17: custom playbooks imported from Arazzo documents (schema only).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("offboarding", "0018_hooks_defaults"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomPlaybook",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=120, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="CustomPlaybookVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                (
                    "kind",
                    models.CharField(
                        help_text="What requests store as kind.", max_length=20, unique=True
                    ),
                ),
                (
                    "title",
                    models.CharField(
                        blank=True, help_text="The document's info.title.", max_length=200
                    ),
                ),
                ("document", models.JSONField()),
                (
                    "steps",
                    models.JSONField(
                        help_text="Step specs: system, operation, depends_on, options."
                    ),
                ),
                ("options", models.JSONField(blank=True, default=list)),
                (
                    "notices",
                    models.JSONField(
                        blank=True, default=list, help_text="What the import dropped."
                    ),
                ),
                ("imported_by_label", models.CharField(blank=True, max_length=150)),
                ("imported_at", models.DateTimeField(auto_now_add=True)),
                (
                    "imported_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "playbook",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="offboarding.customplaybook",
                    ),
                ),
            ],
            options={
                "ordering": ["playbook__name", "-number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("playbook", "number"), name="custom_playbook_version_unique"
                    )
                ],
            },
        ),
    ]
