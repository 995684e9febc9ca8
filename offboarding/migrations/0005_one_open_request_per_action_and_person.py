"""At most one open request per action and person, held by a partial unique index.

Before the index is built, open twins left by the old check-only rule stop the migration with the
requests to look at (cancel or finish all but one of each pair, then migrate again).
"""

from django.db import migrations, models
from django.db.models import Count

OPEN = ("draft", "pending_approval", "approved", "running")


def refuse_open_twins(apps, schema_editor):
    ActionRequest = apps.get_model("offboarding", "ActionRequest")
    twins = (
        ActionRequest.objects.filter(state__in=OPEN)
        .values("kind", "target_okta_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems = []
    for twin in twins[:20]:
        ids = ActionRequest.objects.filter(
            state__in=OPEN, kind=twin["kind"], target_okta_id=twin["target_okta_id"]
        ).values_list("id", flat=True)
        problems.append(
            f"{twin['kind']} for {twin['target_okta_id']}: #" + ", #".join(map(str, ids))
        )
    if problems:
        raise RuntimeError(
            "More than one open request for the same action and person; cancel or finish all but "
            "one of each, then migrate again: " + "; ".join(problems)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("offboarding", "0004_request_history_index"),
    ]

    operations = [
        migrations.RunPython(refuse_open_twins, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="actionrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(state__in=OPEN),
                fields=("kind", "target_okta_id"),
                name="request_one_open_per_action_and_person",
            ),
        ),
    ]
