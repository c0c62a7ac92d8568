"""A loader's tables refreshed batch by batch give exactly the warehouse a
full refresh gives, on PostgreSQL (and on DuckDB, where the same tables
work without raw_path).

test_incremental_refresh's scenario (refresh_checks: a generated history,
two increments, bad rows among them; a refresh after each, an as-of cut, a
refresh, then every mart against a --full-refresh build, floats bit for
bit), with each part appended to the tables crm.raw_leads and crm.raw_lead_transitions as
a loader would: a batch named in the column load_id (the var
crm_batch_column). A batch that changes after it was loaded stops the
refresh.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dbt_project_harness import TARGET, DbtProject
from refresh_checks import BUILD, FORMAT, assert_refresh_equals_full_refresh

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS
from sales_pipeline.engines import postgres_connection

pytestmark = pytest.mark.skipif(
    TARGET == "spark", reason="Spark rebuilds in full (no delete without Delta)"
)
COLUMNS = {"raw_leads": LEAD_COLUMNS, "raw_lead_transitions": TRANSITION_COLUMNS}
BATCH_VARS = {"crm_schema": "crm", "crm_batch_column": "load_id"}


def append_batch(project: DbtProject, folder: Path, label: str) -> None:
    """The rows of one part's files (base, inc01, ...) appended to the crm
    tables, their load_id the part's label."""
    for table, columns in COLUMNS.items():
        with duckdb.connect() as reader:
            rows = reader.execute(
                f"select {', '.join(columns)}, '{label}' from "
                f"read_parquet('{folder}/{table}_{label}*.{FORMAT}')"
            ).fetchall()
        insert_rows(project, table, [*columns, "load_id"], rows)


def insert_rows(project: DbtProject, table: str, columns: list[str], rows: list[tuple]) -> None:
    create = f"create table if not exists crm.{table} ({', '.join(c + ' text' for c in columns)})"
    insert = f"insert into crm.{table} values ({', '.join(['%s'] * len(columns))})"
    if project.target == "postgres":
        connection = postgres_connection(project.postgres_database)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute("create schema if not exists crm")
                cursor.execute(create)
                cursor.executemany(insert, rows)
        finally:
            connection.close()
    else:
        with duckdb.connect(str(project.database)) as connection:
            connection.execute("create schema if not exists crm")
            connection.execute(create)
            connection.executemany(insert.replace("%s", "?"), rows)


def test_refresh_by_batch_equals_full_refresh(tmp_path: Path):
    incremental = assert_refresh_equals_full_refresh(
        tmp_path, lambda project: dict(BATCH_VARS), append_batch
    )

    # A loaded batch is append-only: a row added to it stops the refresh.
    insert_rows(
        incremental,
        "raw_leads",
        [*LEAD_COLUMNS, "load_id"],
        [("L-LATE", "2025-01-01", "web", "smb", "rep_01", "10", "inc01")],
    )
    result = incremental.dbt(*BUILD, check=False)
    assert result.returncode != 0
    assert "raw_leads batch 'inc01' has" in result.stdout
    assert "Batches are append-only" in result.stdout
