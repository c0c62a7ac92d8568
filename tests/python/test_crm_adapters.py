"""The CRM adapters (var crm, models/staging/<crm>/): one lead history
written as each CRM's tables in each loader's layout (crm_layouts) gives
the marts the same history gives as the generic raw pair, every mart row
by row; what the CRM adds that the warehouse must not read (deleted deals
and history rows, deals of another pipeline) is left out and counted in
rpt_data_quality, and nothing else differs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from crm_layouts import (
    SALESFORCE_NAMES,
    SALESFORCE_RECORD_TYPE,
    salesforce_tables,
    write_tables,
)
from dbt_project_harness import REPO, DbtProject
from mart_checks import (
    assert_same_marts,
    hand_written_edge_leads,
    transitions_for_edge_leads,
)

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS, generate, read_stages

STAGES = read_stages(REPO / "seeds/config/pipeline_stages.csv")
STAGE_COLUMNS = ["stage_key", "stage_name", "stage_order", "stage_type", "default_expected_days"]
# Marts that name where rows came from: compared apart.
SOURCE_MARTS = ("rpt_data_quality", "rpt_export_files")
SCHEMA = "crm_tables"


@pytest.fixture(scope="module")
def history():
    """Eight months of leads with the generator's edge cases and the
    hand-written ones (bad rows among them), and the stage list as a CRM
    holds it (no default expected days: the CRMs have none)."""
    leads, transitions = generate(
        250, seed=17, stages=STAGES, start=dt.date(2025, 1, 1), months=8, edge_case_rate=4
    )
    leads += hand_written_edge_leads()
    transitions += transitions_for_edge_leads("qualification", "discovery")
    stages = [{**stage, "default_expected_days": ""} for stage in STAGES]
    return leads, transitions, stages


@pytest.fixture(scope="module")
def generic(history, tmp_path_factory):
    """The history as the generic raw pair (seeds), built once."""
    leads, transitions, stages = history
    project = DbtProject.copy_of_repo(tmp_path_factory.mktemp("generic") / "project")
    project.write_seed("raw", "raw_leads", leads, LEAD_COLUMNS)
    project.write_seed("raw", "raw_lead_transitions", transitions, TRANSITION_COLUMNS)
    project.write_seed("config", "pipeline_stages", stages, STAGE_COLUMNS)
    project.dbt("build", extra_vars={"max_rejected_share": 1})
    return project


@pytest.mark.parametrize("loader", ["fivetran", "airbyte"])
def test_salesforce_tables_give_the_generic_marts(loader, history, generic, tmp_path: Path):
    leads, transitions, stages = history
    crm = salesforce_tables(
        leads, transitions, stages, deleted=3, other_pipeline=2, deleted_history_rows=4
    )
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, SALESFORCE_NAMES[loader])
    run_vars = {
        "crm": "salesforce",
        "crm_loader": loader,
        "crm_schema": SCHEMA,
        "crm_pipeline": SALESFORCE_RECORD_TYPE,
        "max_rejected_share": 1,
    }
    project.dbt("build", extra_vars=run_vars)
    if loader == "fivetran":  # the adapter's unit tests (their inputs use Fivetran's names)
        unit = project.dbt(
            "test", "--select", "test_type:unit,path:models/staging/salesforce", extra_vars=run_vars
        )
        assert " 3 unit tests " in unit.stdout and "ERROR=0 " in unit.stdout, unit.stdout[-2000:]
    assert_same_marts(generic, project, leave_out=SOURCE_MARTS)
    assert_accounted_as_generic_plus_left_out(generic, project, crm.left_out)


def assert_accounted_as_generic_plus_left_out(generic, project, left_out) -> None:
    """rpt_data_quality: the generic build's rows, and the left-out rows."""
    query = "select table_name, outcome, reason, row_count from marts.rpt_data_quality"
    expected = {
        (row["table_name"], row["outcome"], row["reason"]): row["row_count"]
        for row in generic.query(query)
    }
    expected.update(
        {(table, "left_out", reason): rows for (table, reason), rows in left_out.items()}
    )
    got = {
        (row["table_name"], row["outcome"], row["reason"]): row["row_count"]
        for row in project.query(query)
    }
    assert got == expected


# --- HubSpot ---------------------------------------------------------------


@pytest.mark.parametrize("loader", ["fivetran", "dlt"])
def test_hubspot_tables_give_the_generic_marts(loader, history, generic, tmp_path: Path):
    """Deleted deals, stale copies of merged deals and the deals of a second
    pipeline (its stages labelled as the first's) are left out and counted;
    the rest gives the generic marts row by row."""
    from crm_layouts import HUBSPOT_NAMES, HUBSPOT_PIPELINE, hubspot_tables, loader_tables

    leads, transitions, stages = history
    crm = hubspot_tables(leads, transitions, stages, deleted=3, merged=2, other_pipeline=4)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, loader_tables(crm, HUBSPOT_NAMES[loader]), HUBSPOT_NAMES[loader])
    run_vars = {
        "crm": "hubspot",
        "crm_loader": loader,
        "crm_schema": SCHEMA,
        "crm_pipeline": HUBSPOT_PIPELINE,
        "max_rejected_share": 1,
    }
    project.dbt("build", extra_vars=run_vars)
    if loader == "fivetran":  # the adapter's unit tests (their inputs use Fivetran's names)
        unit = project.dbt(
            "test", "--select", "test_type:unit,path:models/staging/hubspot", extra_vars=run_vars
        )
        assert " 5 unit tests " in unit.stdout and "ERROR=0 " in unit.stdout, unit.stdout[-2000:]
    assert_same_marts(generic, project, leave_out=SOURCE_MARTS)
    assert_accounted_as_generic_plus_left_out(generic, project, crm.left_out)


def test_hubspot_several_pipelines_stop_the_build_without_crm_pipeline(history, tmp_path: Path):
    """Two pipelines and no crm_pipeline (or one that is neither): the build
    stops at the stage list, listing the pipelines with their deal counts."""
    from crm_layouts import (
        HUBSPOT_NAMES,
        HUBSPOT_PIPELINE,
        OTHER_HUBSPOT_PIPELINE,
        hubspot_tables,
    )

    leads, transitions, stages = history
    crm = hubspot_tables(leads[:20], transitions, stages, other_pipeline=3)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, HUBSPOT_NAMES["fivetran"])
    run_vars = {"crm": "hubspot", "crm_loader": "fivetran", "crm_schema": SCHEMA}
    select = ("--select", "+base_hubspot__chosen_stages")
    stopped = project.dbt("run", *select, extra_vars={**run_vars, "crm_pipeline": ""}, check=False)
    assert stopped.returncode != 0
    assert "HubSpot's deal stages hold 2 pipelines and the marts describe one" in stopped.stdout
    assert "set the var crm_pipeline (env PIPELINE_CRM_PIPELINE)" in stopped.stdout
    assert f"- '{HUBSPOT_PIPELINE}' (Sales pipeline): 20 deals" in stopped.stdout
    assert f"- '{OTHER_HUBSPOT_PIPELINE}' (Renewals): 3 deals" in stopped.stdout
    unknown = project.dbt("run", *select, extra_vars={**run_vars, "crm_pipeline": "1"}, check=False)
    assert unknown.returncode != 0
    assert "is '1', which is not a pipeline of HubSpot's deal stages" in unknown.stdout
    chosen = project.dbt("run", *select, extra_vars={**run_vars, "crm_pipeline": HUBSPOT_PIPELINE})
    assert chosen.returncode == 0
