"""A loader's tables refreshed batch by batch give exactly the warehouse a
full refresh gives, on PostgreSQL (and on DuckDB, where the same tables
work without raw_path).

test_incremental_refresh's generated history and its two increments (bad
rows among them) are appended to the tables crm.raw_leads and
crm.raw_lead_transitions as a loader would, each part a batch named in the
column load_id (the var crm_batch_column). One warehouse builds after each
batch, then as of 30 days earlier, then again (delete+insert by lead);
another builds once from all the rows with --full-refresh. Every mart must
then hold the same rows, floats bit for bit. A batch that changes after it
was loaded stops the refresh.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import generate_scale_data
import pytest
from dbt_project_harness import TARGET, DbtProject, postgres_connection
from generate_demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS
from test_incremental_refresh import (
    BUILD,
    FORMAT,
    REQUIRED_MARTS,
    STAGES,
    assert_same_rows,
    check_bad_input_handled,
    lead_visits,
    loaded_at_count,
    marts_in,
    write_bad_input,
)

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
    generated = tmp_path / "all"
    generate_scale_data.generate(
        generated,
        leads=3000,
        seed=5,
        stages=STAGES,
        file_format=FORMAT,
        increments=2,
        increment_share=0.05,
        threads=2,
    )
    extras = write_bad_input(generated)

    incremental = DbtProject.copy_of_repo(tmp_path / "incremental")
    incremental.vars = dict(BATCH_VARS)
    append_batch(incremental, generated, "base")
    incremental.dbt(*BUILD)
    assert lead_visits(incremental, extras["conflict_lead"]) > 0, "the base accepts the lead"
    for label in ("inc01", "inc02"):
        append_batch(incremental, generated, label)
        incremental.dbt(*BUILD)
    assert loaded_at_count(incremental, "staging.stg_crm__export_files") == 3
    assert loaded_at_count(incremental, "intermediate.int_lead_stage_visits_collapsed") == 3
    (latest,) = incremental.query("select as_of_date from intermediate.int_pipeline_as_of")
    incremental.dbt(
        *BUILD, extra_vars={"as_of_date": str(latest["as_of_date"] - timedelta(days=30))}
    )
    incremental.dbt(*BUILD)

    full = DbtProject.copy_of_repo(tmp_path / "full")
    full.vars = dict(BATCH_VARS)
    for label in ("base", "inc01", "inc02"):
        append_batch(full, generated, label)
    full.dbt(*BUILD, "--full-refresh")

    marts = marts_in(incremental)
    assert marts == marts_in(full), "both warehouses publish the same marts"
    missing = [name for name in REQUIRED_MARTS if name not in marts]
    assert not missing, f"marts missing: {missing}"
    for name in marts:
        assert_same_rows(name, incremental, full)
    check_bad_input_handled(incremental, generated, extras)

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
