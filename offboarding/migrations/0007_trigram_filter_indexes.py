"""Trigram (pg_trgm) indexes for the "contains" filters of the history and audit pages.

The filters are `icontains`, which Django writes as `UPPER(col::text) LIKE UPPER('%words%')`: a
b-tree cannot help, so without these every filtered page read the whole table. A GIN trigram index
on the same expression answers it from the index. PostgreSQL only (SQLite: nothing); built
CONCURRENTLY so a live audit trail keeps taking appends while the index is made.
"""

from django.db import migrations

# (index name, table, expression): each gets a GIN index on UPPER((expression)::text).
# The history's person filter reads login, name and email as one string (selectors.TargetWords).
TRIGRAM_INDEXES = (
    ("audit_target_trgm", "offboarding_auditevent", '"target"'),
    ("audit_actor_label_trgm", "offboarding_auditevent", '"actor_label"'),
    (
        "request_target_words_trgm",
        "offboarding_actionrequest",
        '"target_login" || chr(1) || "target_name" || chr(1) || "target_email"',
    ),
)


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"USING gin ((UPPER(({expression})::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("offboarding", "0006_audit_sealed_links_signed_head")]

    operations = [migrations.RunPython(add_indexes, drop_indexes)]
