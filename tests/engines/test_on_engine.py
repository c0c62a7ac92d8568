"""The same models on PostgreSQL or Spark (PIPELINE_TEST_TARGET), proven as
on DuckDB: every data and unit test passes, the marts equal the independent
reference on generated data with both stage configurations, bad rows are
quarantined with the same reasons, broken configurations stop the build
with the same messages. On PostgreSQL the marts also equal DuckDB's row by
row. Run by make test-postgres and make test-spark, which start the engine.

The raw rows are the raw seeds here (a loader's tables on these engines);
on PostgreSQL export files (raw_path) also arrive through the project's
loader, as on DuckDB, where the file tests themselves run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from crm_layouts import (
    HUBSPOT_NAMES,
    HUBSPOT_PIPELINE,
    SALESFORCE_NAMES,
    SALESFORCE_RECORD_TYPE,
    hubspot_tables,
    loader_tables,
    salesforce_tables,
    write_tables,
)
from dbt_project_harness import REPO, TARGET, DbtProject, write_csv
from export_fixtures import small_exports
from mart_checks import (
    OTHER_CONFIG,
    as_text,
    assert_same_marts,
    check_built,
    check_scenario,
    demo_config,
    demo_goals_folder,
    hand_written_edge_leads,
    other_stage_data,
    transitions_for_edge_leads,
    write_other_config,
)
from reference import read_csv_rows
from test_bad_input import (  # noqa: F401  (collected here, on this engine)
    quarantined,
    test_a_broken_configuration_stops_the_build_naming_the_rows,
    test_blank_lead_id_of_a_lead,
    test_blank_lead_id_of_a_stage_change,
    test_duplicate_lead_rows_with_conflicting_attributes,
    test_every_raw_row_is_counted_once,
    test_exact_duplicate_lead_rows_count_once,
    test_negative_amount,
    test_non_numeric_amount,
    test_rejected_rows_warn,
    test_stage_change_after_the_as_of_date_is_kept_but_not_counted,
    test_stage_change_before_the_lead_was_created,
    test_stage_change_of_a_lead_missing_from_raw_leads,
    test_stage_change_of_a_quarantined_lead,
    test_the_won_stage_must_come_after_every_open_stage,
    test_too_many_rejected_rows_fail_the_build,
    test_unknown_stage_key,
    test_unparseable_created_at,
    test_unparseable_timestamp,
)
from test_marts_match_reference import (  # noqa: F401  (collected here, on this engine)
    test_demo_config_from_seeds,
)

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS, generate, read_stages

pytestmark = pytest.mark.skipif(
    TARGET == "duckdb", reason="set PIPELINE_TEST_TARGET (make test-postgres, make test-spark)"
)


def test_the_demo_builds_with_every_data_and_unit_test(tmp_path: Path):
    """dbt build of the demo seeds, unit tests included, and the marts of
    that build equal the reference on the same seeds."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    result = project.dbt("build", unit_tests=True)
    assert f" {count_unit_tests()} unit tests" in result.stdout
    assert "ERROR=0" in result.stdout and "WARN=0" in result.stdout
    check_built(
        project,
        read_csv_rows(str(REPO / "seeds/raw/raw_leads.csv")),
        read_csv_rows(str(REPO / "seeds/raw/raw_lead_transitions.csv")),
        demo_config(),
    )


def count_unit_tests() -> int:
    """The unit tests of the generic build: a CRM adapter's (its base_
    models) run only with the var crm set to it."""
    import yaml

    return sum(
        1
        for path in (REPO / "models").rglob("*.yml")
        for test in yaml.safe_load(path.read_text()).get("unit_tests") or []
        if not test["model"].startswith("base_")
    )


def test_other_stage_configuration_from_seeds(tmp_path: Path):
    """The second configuration of mart_checks (other keys, four open
    stages, two lost ones, benchmarks for some stages), as seeds, with its
    Los Angeles days and Kaplan-Meier expected days (as
    test_marts_match_reference builds it from Parquet), as of a date inside
    the data: the default as-of date is the demo tests' here, and each
    build costs minutes on Spark."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_other_config(project.root / "seeds/config")
    leads, transitions = other_stage_data(250)
    project.write_seed("raw", "raw_leads", leads, LEAD_COLUMNS)
    project.write_seed("raw", "raw_lead_transitions", transitions, TRANSITION_COLUMNS)
    check_scenario(
        project,
        as_text(leads),
        as_text(transitions),
        OTHER_CONFIG,
        as_of_dates=["2025-07-20"],
        expected_days_basis="km_median",
        business_time_zone="America/Los_Angeles",
    )


def test_a_date_format_var_reads_the_same_as_on_duckdb(tmp_path: Path):
    """input_timestamp_format on this engine: dd/mm/yyyy hh:mm texts parse,
    an impossible date or another shape is quarantined as unparseable."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    (project.root / "seeds/raw/raw_leads.csv").write_text(
        "lead_id,created_at,lead_source,segment,owner_id,deal_amount_usd\n"
        "L1,01/02/2025 08:00,web,smb,rep_01,100\n"
        "L2,31/02/2025 08:00,web,smb,rep_01,100\n"
        "L3,2025-02-01T08:00:00Z,web,smb,rep_01,100\n"
    )
    (project.root / "seeds/raw/raw_lead_transitions.csv").write_text(
        "lead_id,stage_key,entered_at\nL1,qualification,1/2/2025 9:30\n"
    )
    # Only what the test reads, and the tests of those models alone (each
    # node costs seconds on Spark).
    project.dbt(
        "build",
        "--select",
        "+rejected_leads +fct_lead_stage_visits",
        "--indirect-selection",
        "cautious",
        extra_vars={"input_timestamp_format": "%d/%m/%Y %H:%M", "max_rejected_share": 1},
    )
    rejected = {
        row["lead_id"]: row["rejection_reason"]
        for row in project.query("select lead_id, rejection_reason from marts.rejected_leads")
    }
    assert rejected == {"L2": "unparseable_created_at", "L3": "unparseable_created_at"}
    [visit] = project.query("select entered_at from marts.fct_lead_stage_visits")
    assert visit["entered_at"] == dt.datetime(2025, 2, 1, 9, 30)


@pytest.mark.skipif(TARGET != "postgres", reason="PostgreSQL against DuckDB")
def test_postgres_marts_equal_duckdbs_row_by_row(tmp_path: Path):
    """The same generated seeds built on DuckDB and on PostgreSQL: every
    mart (published, quarantine and reports) holds the same rows, floats
    equal to 1e-12."""
    stages = read_stages(REPO / "seeds/config/pipeline_stages.csv")
    leads, transitions = generate(
        300, seed=31, stages=stages, start=dt.date(2025, 1, 1), months=8, edge_case_rate=4
    )
    leads += hand_written_edge_leads()
    transitions += transitions_for_edge_leads("qualification", "discovery")
    built = {}
    for target in ("duckdb", "postgres"):
        project = DbtProject.copy_of_repo(tmp_path / target, target=target)
        project.write_seed("raw", "raw_leads", leads, LEAD_COLUMNS)
        project.write_seed("raw", "raw_lead_transitions", transitions, TRANSITION_COLUMNS)
        project.dbt("build", extra_vars={"max_rejected_share": 1})
        built[target] = project
    assert_same_marts(built["duckdb"], built["postgres"])


@pytest.mark.skipif(TARGET != "postgres", reason="the loader lands in DuckDB and PostgreSQL")
def test_export_files_load_into_postgres_and_build_as_on_duckdb(tmp_path: Path):
    """Export files through the loader (sales_pipeline.load --target
    postgres): the same marts as the same files loaded into DuckDB, row by
    row, after a first build and after a refresh that reads a new file; the
    ledger names each file with its checksum; a bad file stops the load in
    the words it gives on DuckDB and lands nothing."""
    exports = tmp_path / "exports"
    leads, transitions = small_exports(seed=12, leads=200)
    leads += hand_written_edge_leads()  # quarantined rows among them
    transitions += transitions_for_edge_leads("qualification", "discovery")
    bad_change = {"lead_id": leads[2]["lead_id"], "stage_key": "no_such_stage"}
    transitions.insert(0, {**bad_change, "entered_at": "2025-03-01 10:00:00"})
    # Text a CSV writer must quote, and an empty value (null on both engines).
    leads[0]["lead_source"] = 'partner, "referral"'
    leads[1]["segment"] = ""
    half = len(transitions) // 2
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(exports / "raw_lead_transitions_1.csv", transitions[:half], TRANSITION_COLUMNS)
    run_vars = {"raw_path": str(exports), "export_settle_seconds": 0, "max_rejected_share": 1}
    built = {
        target: DbtProject.copy_of_repo(tmp_path / target, target=target)
        for target in ("duckdb", "postgres")
    }
    for project in built.values():
        project.dbt("build", extra_vars=run_vars)
    assert_same_marts(built["duckdb"], built["postgres"])

    write_csv(exports / "raw_lead_transitions_2.csv", transitions[half:], TRANSITION_COLUMNS)
    for project in built.values():
        project.dbt("build", extra_vars=run_vars)
    assert_same_marts(built["duckdb"], built["postgres"])
    postgres = built["postgres"]
    ledger = postgres.query(
        "select file_name, row_count, checksum_sha256 from crm_exports.load_ledger"
    )
    assert sorted((row["file_name"], row["row_count"]) for row in ledger) == [
        ("raw_lead_transitions_1.csv", half),
        ("raw_lead_transitions_2.csv", len(transitions) - half),
        ("raw_leads.csv", len(leads)),
    ]
    for row in ledger:
        digest = hashlib.sha256((exports / row["file_name"]).read_bytes()).hexdigest()
        assert row["checksum_sha256"] == digest
    [landed] = postgres.query("select count(*) as n from crm_exports.raw_lead_transitions")
    assert landed["n"] == len(transitions)

    (exports / "raw_lead_transitions_3.csv").write_text("lead_id,stage_key\nL1,discovery\n")
    stopped = {target: project.load(run_vars) for target, project in built.items()}
    assert stopped["postgres"].returncode == 1
    assert "raw_lead_transitions_3.csv" in stopped["postgres"].stdout
    assert stopped["postgres"].stdout == stopped["duckdb"].stdout
    assert len(postgres.query("select file_name from crm_exports.load_ledger")) == 3


@pytest.mark.skipif(TARGET != "postgres", reason="a CRM adapter where loaders land: PostgreSQL")
@pytest.mark.parametrize("crm_name, loader", [("salesforce", "fivetran"), ("hubspot", "airbyte")])
def test_a_crm_adapter_on_postgres_gives_the_generic_marts(crm_name, loader, tmp_path: Path):
    """Salesforce's tables as Fivetran lands them, and HubSpot's as Airbyte
    does (each pipeline's stages a jsonb array), in PostgreSQL, read by the
    CRM's adapter (var crm): the marts the same history gives on DuckDB as
    the generic raw pair, row by row, with the deleted (and merged) deals
    left out and counted."""
    stages = [
        {**stage, "default_expected_days": ""}
        for stage in read_stages(REPO / "seeds/config/pipeline_stages.csv")
    ]
    leads, transitions = generate(
        200, seed=5, stages=stages, start=dt.date(2025, 1, 1), months=8, edge_case_rate=4
    )
    leads += hand_written_edge_leads()
    transitions += transitions_for_edge_leads("qualification", "discovery")
    generic = DbtProject.copy_of_repo(tmp_path / "generic", target="duckdb")
    generic.write_seed("raw", "raw_leads", leads, LEAD_COLUMNS)
    generic.write_seed("raw", "raw_lead_transitions", transitions, TRANSITION_COLUMNS)
    generic.write_seed("config", "pipeline_stages", stages, list(stages[0]))
    generic.dbt("build", extra_vars={"max_rejected_share": 1})

    if crm_name == "salesforce":
        crm = salesforce_tables(leads, transitions, stages, deleted=2, deleted_history_rows=3)
        names, run_vars = SALESFORCE_NAMES[loader], {}
    else:
        names = HUBSPOT_NAMES[loader]
        crm = loader_tables(hubspot_tables(leads, transitions, stages, deleted=2, merged=2), names)
        run_vars = {"crm_pipeline": HUBSPOT_PIPELINE}
    project = DbtProject.copy_of_repo(tmp_path / "postgres")
    write_tables(project, crm_name, crm, names)
    project.dbt(
        "build",
        extra_vars={
            "crm": crm_name,
            "crm_loader": loader,
            "max_rejected_share": 1,
            **demo_goals_folder(tmp_path / "config"),
            **run_vars,
        },
    )
    pipeline = assert_same_marts(
        generic,
        project,
        leave_out=("rpt_data_quality", "rpt_export_files"),
        other_pipeline_name=True,
    )
    # The CRM's one pipeline: Salesforce's record type (named by its id
    # without a RecordType table); HubSpot's default pipeline.
    expected_pipeline = {
        "salesforce": (SALESFORCE_RECORD_TYPE, SALESFORCE_RECORD_TYPE),
        "hubspot": ("default", "Sales pipeline"),
    }
    assert pipeline == expected_pipeline[crm_name]
    left_out = project.query(
        "select table_name, reason, row_count from marts.rpt_data_quality"
        " where outcome = 'left_out'"
    )
    assert {(r["table_name"], r["reason"]): r["row_count"] for r in left_out} == crm.left_out
