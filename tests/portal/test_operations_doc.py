"""docs/OPERATIONS.md stays true: linked from the README, and every command and column it tells an
operator to use exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import get_commands
from django.db import connection

from offboarding.models import ActionRequest, StepRun

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")


def test_the_readme_links_the_operations_page():
    assert "(docs/OPERATIONS.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_management_command_named_exists():
    named = set(re.findall(r"manage\.py ([a-z_]+)", DOC)) | set(
        re.findall(r"`(rotate_encryption_keys|verify_audit|test_connections|run_sweeper)", DOC)
    )
    assert {"qcluster", "migrate", "rotate_encryption_keys", "verify_audit"} <= named
    assert named <= set(get_commands()), named - set(get_commands())


def test_the_monitoring_queries_name_real_tables_columns_and_states():
    step_columns = {f.column for f in StepRun._meta.concrete_fields}
    sql = "\n".join(re.findall(r"```sql\n(.*?)```", DOC, flags=re.S))
    assert StepRun._meta.db_table in sql and ActionRequest._meta.db_table in sql
    for column in re.findall(r"\bs\.([a-z_]+)", sql):
        assert column in step_columns, column
    for column in ("lease_expires_at", "next_attempt_at", "last_error", "finished_at", "detail"):
        assert column in step_columns
    for status in re.findall(r"status (?:=|IN \() ?'([a-z_]+)'", sql):
        assert status in StepRun.Status.values, status
    quarantined = re.search(r"LIKE '([^%']+)%'", sql)
    runner_code = "".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "offboarding" / "runner").glob("*.py")
    )
    assert quarantined and quarantined.group(1) in runner_code


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the queries are PostgreSQL's")
def test_the_monitoring_queries_run():
    sql = "\n".join(re.findall(r"```sql\n(.*?)```", DOC, flags=re.S))
    statements = [s.strip() for s in sql.split(";") if s.strip()]
    assert len(statements) == 4
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            cursor.fetchall()
