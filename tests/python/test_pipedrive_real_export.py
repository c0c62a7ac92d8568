"""The real Pipedrive export (the Enpal take-home, outside the repository:
see test_real_exports) landed as tables under its file names and headers and
built through the Pipedrive adapter's export layout (var crm pipedrive,
crm_loader export) gives the marts today's path gives: the same export
mapped by sales_pipeline.crm_exports.map_pipedrive into raw files and config
seeds (ISO timestamps: no input_timestamp_format). Every mart row by row;
rpt_data_quality adds the rows the adapter leaves out where the mapping
report counts them as not mapped."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from dbt_project_harness import DbtProject
from mart_checks import assert_same_marts
from test_crm_adapters import SCHEMA, SOURCE_MARTS
from test_real_exports import SHARED_DATA, build

from sales_pipeline.crm_exports import (
    LOST_AFTER_WON,
    PIPEDRIVE_CHANGES,
    PIPEDRIVE_WON_STAGE,
    POST_SALE_CHANGE,
    REVENUE_TARGETS,
    STAGE_BENCHMARKS,
    map_pipedrive,
)

EXPORT = SHARED_DATA / "pipedrive_enpal"


def land_export(database: Path) -> None:
    """deal_changes.csv and stages.csv as tables, every column text, as a
    file loader would land them (the files stay where they are)."""
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"create schema if not exists {SCHEMA}")
        for name in ("deal_changes", "stages"):
            connection.execute(
                f"create or replace table {SCHEMA}.{name} as "
                "select * from read_csv(?, header = true, all_varchar = true)",
                [str(EXPORT / f"{name}.csv")],
            )


def test_pipedrive_export_through_the_adapter_gives_the_mapped_marts(tmp_path: Path):
    mapped = build(tmp_path / "mapped", map_pipedrive, "pipedrive_enpal", {})
    project = DbtProject.copy_of_repo(tmp_path / "adapter")
    # The same benchmarks and targets (none: the demo's name other stages);
    # the stage list is the adapter's.
    for name in (STAGE_BENCHMARKS, REVENUE_TARGETS):
        shutil.copyfile(
            mapped.project.root / "seeds" / "config" / name,
            project.root / "seeds" / "config" / name,
        )
    land_export(project.database)
    project.dbt(
        "build",
        extra_vars={
            "crm": "pipedrive",
            "crm_loader": "export",
            "crm_schema": SCHEMA,
            "crm_won_stage": PIPEDRIVE_WON_STAGE,
        },
    )
    # The export has no amounts and the mapping no revenue targets: marts
    # empty in today's build must be empty here too, and are compared so.
    empty = [
        row["table_name"]
        for row in mapped.project.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
        if not mapped.project.query(f"select 1 from marts.{row['table_name']} limit 1")
    ]
    for name in empty:
        assert not project.query(f"select 1 from marts.{name} limit 1"), name
    assert_same_marts(mapped.project, project, leave_out=(*SOURCE_MARTS, *empty))
    # What the mapping does not map, the adapter leaves out and counts.
    not_mapped = mapped.report.not_mapped[PIPEDRIVE_CHANGES]
    expected = mapped.quality()
    expected[("raw_lead_transitions", "left_out", "post_sale_stage_change")] = not_mapped[
        POST_SALE_CHANGE
    ]
    expected[("raw_lead_transitions", "left_out", "lost_reason_after_won")] = not_mapped[
        LOST_AFTER_WON
    ]
    got = {
        (row["table_name"], row["outcome"], row["reason"]): row["row_count"]
        for row in project.query("select * from marts.rpt_data_quality")
        if row["row_count"]
    }
    assert got == expected
