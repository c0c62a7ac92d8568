"""The CRM adapters (var crm, models/staging/<crm>/): one lead history
written as each CRM's tables in each loader's layout (crm_layouts) gives
the marts the same history gives as the generic raw pair, every mart row
by row; what the CRM adds that the warehouse must not read (deleted deals
and history rows, deals of another pipeline) is left out and counted in
rpt_data_quality, and nothing else differs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from crm_layouts import (
    PIPEDRIVE_NAMES,
    PIPEDRIVE_PIPELINE,
    SALESFORCE_NAMES,
    SALESFORCE_RECORD_TYPE,
    Pipeline,
    api_name,
    pipedrive_tables,
    pipeline_stage_key,
    salesforce_tables,
    without_reopen_and_move_at_once,
    write_tables,
)
from dbt_project_harness import REPO, DbtProject, write_csv
from export_fixtures import MODELS_ONLY
from mart_checks import (
    as_text,
    assert_marts_match,
    assert_same_marts,
    demo_config,
    demo_goals_folder,
    hand_written_edge_leads,
    transitions_for_edge_leads,
)
from reference import compute_marts

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


def test_salesforce_tables_give_the_generic_marts(history, generic, tmp_path: Path):
    """Airbyte's layout, opportunities without a currency (the corporate one)."""
    leads, transitions, stages = history
    crm = salesforce_tables(
        leads, transitions, stages, deleted=3, other_pipeline=2, deleted_history_rows=4
    )
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, SALESFORCE_NAMES["airbyte"])
    run_vars = {
        "crm": "salesforce",
        "crm_loader": "airbyte",
        "crm_schema": SCHEMA,
        "crm_pipeline": SALESFORCE_RECORD_TYPE,
        "max_rejected_share": 1,
        **demo_goals_folder(tmp_path / "config"),
    }
    build_through_adapter(project, run_vars)
    pipeline = assert_same_marts(generic, project, leave_out=SOURCE_MARTS, other_pipeline_name=True)
    # A record type without a RecordType table is named by its id.
    assert pipeline == (SALESFORCE_RECORD_TYPE, SALESFORCE_RECORD_TYPE)
    assert_accounted_as_generic_plus_left_out(generic, project, crm.left_out)


# Salesforce's DatedConversionRate: units per one USD (the corporate
# currency), each rate until NextStartDate.
DATED_RATES = [
    {"iso_code": code, "conversion_rate": rate, "start_date": start, "next_start_date": end}
    for code, rate, start, end in (
        ("EUR", "0.92", "2024-01-01", "2025-04-01"),
        ("EUR", "0.88", "2025-04-01", "2025-07-01"),
        ("EUR", "0.9", "2025-07-01", None),
        ("GBP", "0.8", "2025-03-01", "2025-05-15"),
        ("GBP", "0.78", "2025-05-15", None),
    )
]
# The same rates worked out by hand as EUR per unit (reporting in EUR):
# USD is EUR's rate; GBP is EUR's over GBP's on the days both hold.
EUR_RATES = [
    {"currency": "USD", "rate_to_reporting": 0.92, "valid_from": "2024-01-01"},
    {"currency": "USD", "rate_to_reporting": 0.88, "valid_from": "2025-04-01"},
    {"currency": "USD", "rate_to_reporting": 0.9, "valid_from": "2025-07-01"},
    {"currency": "GBP", "rate_to_reporting": 0.92 / 0.8, "valid_from": "2025-03-01"},
    {"currency": "GBP", "rate_to_reporting": 0.88 / 0.8, "valid_from": "2025-04-01"},
    {"currency": "GBP", "rate_to_reporting": 0.88 / 0.78, "valid_from": "2025-05-15"},
    {"currency": "GBP", "rate_to_reporting": 0.9 / 0.78, "valid_from": "2025-07-01"},
]


def test_salesforce_multi_currency_org_reports_in_eur_as_the_reference(history, tmp_path: Path):
    """Fivetran's layout of a multi-currency org: opportunities in USD (the
    corporate currency), EUR, GBP (rates from March 2025 only) and JPY (no
    rate), reported in EUR at DatedConversionRate's rates. Every mart
    equals the reference's, which converts with the rates worked out by
    hand; the deals without a rate are counted as no_exchange_rate. With no
    config_path the build reads no demo configuration: no benchmarks and no
    revenue targets, so no plan."""
    leads, transitions, stages = history
    cycle = ["USD", "EUR", "GBP", "JPY", None]
    currencies = {lead["lead_id"]: cycle[n % len(cycle)] for n, lead in enumerate(leads)}
    crm = salesforce_tables(
        leads, transitions, stages, deleted=3, currencies=currencies, dated_rates=DATED_RATES
    )
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, SALESFORCE_NAMES["fivetran"])
    run_vars = {
        "crm": "salesforce",
        "crm_loader": "fivetran",
        "crm_schema": SCHEMA,
        "reporting_currency": "EUR",
        "crm_currency": "usd",
        "max_rejected_share": 1,
    }
    build_through_adapter(project, run_vars, unit_tests=11)
    expected = compute_marts(
        as_text([{**row, "deal_currency": currencies[row["lead_id"]] or "USD"} for row in leads]),
        as_text(transitions),
        # The org's one record type is the pipeline, named by its id (no RecordType table).
        [{**stage, "pipeline_id": SALESFORCE_RECORD_TYPE} for stage in stages],
        [],
        [],
        reporting_currency="EUR",
        exchange_rates=EUR_RATES,
    )
    assert_marts_match(project, expected)
    assert project.query("select * from marts.fct_pipeline_plan") == []
    assert project.query("select * from staging.stg_config__stage_benchmarks") == []
    notes = project.query(
        "select row_count from marts.rpt_data_quality where reason = 'no_exchange_rate'"
    )
    assert [row["row_count"] for row in notes] == [len(expected["leads_without_exchange_rate"])]
    assert len(expected["leads_without_exchange_rate"]) > 0


def build_through_adapter(project, run_vars, unit_tests: int | None = None) -> None:
    """Seeds and models, then the data tests the adapter bears on (its
    models' own, and every raw row accounted for; the generic build runs
    the rest on the same history), and, given their number, its unit tests
    (their inputs are written in one loader's names)."""
    project.dbt(*MODELS_ONLY, extra_vars=run_vars)
    crm = run_vars["crm"]
    args = ["--select", f"path:models/staging/{crm}", "assert_every_raw_row_is_accounted_for"]
    if unit_tests is None:
        args += ["--exclude-resource-type", "unit_test"]
    tested = project.dbt("test", *args, extra_vars=run_vars)
    assert "ERROR=0 " in tested.stdout, tested.stdout[-2000:]
    if unit_tests is not None:
        assert f" {unit_tests} unit tests " in tested.stdout, tested.stdout[-2000:]


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


@pytest.mark.parametrize("loader", ["fivetran", "dlt", "airbyte"])
def test_hubspot_tables_give_the_generic_marts(loader, history, generic, tmp_path: Path):
    """Deleted deals, stale copies of merged deals and the deals of a second
    pipeline (its stages labelled as the first's) are left out and counted;
    the rest gives the generic marts row by row. The team's configuration
    comes from config_path, with no export files: the demo's benchmarks and
    targets, without pipeline_stages.csv (the CRM's stages); for dlt with
    one that lists the same stages (it replaces the CRM's); with Fivetran
    and dlt a rate for a currency no deal has, which changes nothing."""
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
    config = tmp_path / "config"
    run_vars.update(demo_goals_folder(config))
    if loader != "airbyte":
        rate = {"currency": "CHF", "rate_to_reporting": "1.1", "valid_from": "2025-01-01"}
        write_csv(config / "exchange_rates.csv", [rate], list(rate))
        if loader == "dlt":
            write_csv(config / "pipeline_stages.csv", stages, STAGE_COLUMNS)
    # The unit tests' inputs are in Fivetran's names (Airbyte's one overrides crm_loader).
    build_through_adapter(project, run_vars, unit_tests=10 if loader == "fivetran" else None)
    pipeline = assert_same_marts(generic, project, leave_out=SOURCE_MARTS, other_pipeline_name=True)
    # The layouts' HubSpot pipeline is HubSpot's default one, whose id and
    # label are the warehouse's default pipeline's too.
    assert pipeline == ("default", "Sales pipeline")
    assert_accounted_as_generic_plus_left_out(generic, project, crm.left_out)


# --------------------------------------------------------------------------- pipedrive
# Pipedrive closes a deal by its status, not a stage: its adapter adds the
# stages won and lost. The comparison builds the generic history with those
# keys (closed_won -> won, closed_lost -> lost), and without what Pipedrive
# has no standard field for (lead source, segment); the export layout has
# no amounts either, and one owner per deal (its latest user_id change).


def pipedrive_history(history, loader: str):
    leads, transitions, stages = history
    keys = {"closed_won": "won", "closed_lost": "lost"}
    # The export adapter names its lost stage after the change that makes it.
    names = {"won": "Won", "lost": "Lost (lost_reason set)" if loader == "export" else "Lost"}
    stages = [
        {
            **s,
            "stage_key": keys.get(s["stage_key"], s["stage_key"]),
            "stage_name": names.get(keys.get(s["stage_key"], ""), s["stage_name"]),
        }
        for s in stages
    ]
    transitions = [
        {**t, "stage_key": keys.get(t["stage_key"].strip().lower(), t["stage_key"])}
        for t in transitions
    ]
    leads = [{**lead, "lead_source": "", "segment": ""} for lead in leads]
    if loader == "dlt":
        transitions = without_reopen_and_move_at_once(transitions)
    if loader == "export":
        owners = {lead["lead_id"]: lead["owner_id"] for lead in leads}
        leads = [
            {**lead, "deal_amount_usd": "", "owner_id": owners[lead["lead_id"]]} for lead in leads
        ]
    return leads, transitions, stages


@pytest.fixture(scope="module")
def pipedrive_generic(history, tmp_path_factory):
    """The Pipedrive-shaped history per loader as the generic raw pair, built once each."""
    built = {}

    def build(loader: str) -> DbtProject:
        if loader not in built:
            leads, transitions, stages = pipedrive_history(history, loader)
            project = DbtProject.copy_of_repo(tmp_path_factory.mktemp(f"generic_{loader}") / "p")
            project.write_seed("raw", "raw_leads", leads, LEAD_COLUMNS)
            project.write_seed("raw", "raw_lead_transitions", transitions, TRANSITION_COLUMNS)
            project.write_seed("config", "pipeline_stages", stages, STAGE_COLUMNS)
            # Models only: the generic fixture's build runs the data tests.
            project.dbt(*MODELS_ONLY, extra_vars={"max_rejected_share": 1})
            built[loader] = project
        return built[loader]

    return build


@pytest.mark.parametrize("loader", ["dlt", "export"])
def test_pipedrive_tables_give_the_generic_marts(
    loader, history, pipedrive_generic, tmp_path: Path
):
    leads, transitions, stages = pipedrive_history(history, loader)
    extras = {"deleted": 3, "other_pipeline": 2} if loader == "dlt" else {}
    crm = pipedrive_tables(leads, transitions, stages, loader, **extras)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, PIPEDRIVE_NAMES[loader])
    run_vars = {
        "crm": "pipedrive",
        "crm_loader": loader,
        "crm_schema": SCHEMA,
        "max_rejected_share": 1,
        **({"crm_pipeline": PIPEDRIVE_PIPELINE} if loader == "dlt" else {"crm_won_stage": "Won"}),
        **demo_goals_folder(tmp_path / "config"),
    }
    # The unit tests' inputs are in dlt's names (some override crm_loader).
    build_through_adapter(
        project, run_vars, unit_tests=PIPEDRIVE_UNIT_TESTS if loader == "dlt" else None
    )
    generic = pipedrive_generic(loader)
    pipeline = assert_same_marts(generic, project, leave_out=SOURCE_MARTS, other_pipeline_name=True)
    # Pipedrive's landed tables name no pipeline: its id, or the export's one.
    assert pipeline == (
        (PIPEDRIVE_PIPELINE, PIPEDRIVE_PIPELINE) if loader == "dlt" else ("default", "default")
    )
    assert_accounted_as_generic_plus_left_out(generic, project, crm.left_out)


def split_in_two_pipelines(history, size: int = 40):
    """Two generic histories of the one: the first `size` leads and the
    next `size`, each with its leads' stage changes and the same stages."""
    leads, transitions, stages = history
    groups = [leads[:size], leads[size : 2 * size]]
    parts = []
    for group in groups:
        ids = {lead["lead_id"] for lead in group}
        parts.append((group, [t for t in transitions if t["lead_id"] in ids], stages))
    return parts


def test_hubspot_reads_every_pipeline_without_crm_pipeline(history, tmp_path: Path):
    """Two pipelines whose stages share labels, no crm_pipeline: the
    adapter's stage list holds both, every key prefixed with its pipeline's
    label made a key, orders 1..n in each, each stage with its pipeline id
    and label; every stage change is read with its deal's pipeline's key
    and none is left out. Every mart equals the reference computed
    pipeline by pipeline, with each pipeline's own revenue target and a
    benchmark for one pipeline's stages (config_path without a stage
    list). A crm_pipeline that is neither stops the build, listing them."""
    from crm_layouts import HUBSPOT_NAMES, Pipeline, hubspot_tables, pipeline_stage_key

    (sales_leads, sales_changes, stages), (renewal_leads, renewal_changes, _) = (
        split_in_two_pipelines(history)
    )
    pipelines = [
        Pipeline("default", "Sales pipeline", sales_leads, sales_changes, stages),
        Pipeline("98765", "Renewals", renewal_leads, renewal_changes, stages),
    ]
    crm = hubspot_tables(pipelines=pipelines)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, HUBSPOT_NAMES["fivetran"])
    config_path = tmp_path / "config"
    benchmarks = [
        {**row, "stage_key": pipeline_stage_key("Renewals", row["stage_key"])}
        for row in demo_config()["stage_benchmarks"]
    ]
    targets = [
        {
            "pipeline_id": "default",
            "target_month": "2025-09-01",
            "revenue_target_usd": "80000",
            "avg_deal_size_usd": "",
        },
        {
            "pipeline_id": "98765",
            "target_month": "2025-09-01",
            "revenue_target_usd": "20000",
            "avg_deal_size_usd": "5000",
        },
    ]
    write_csv(config_path / "stage_benchmarks.csv", benchmarks, list(benchmarks[0]))
    write_csv(config_path / "revenue_targets.csv", targets, list(targets[0]))
    run_vars = {
        "crm": "hubspot",
        "crm_loader": "fivetran",
        "crm_schema": SCHEMA,
        "config_path": str(config_path),
        "max_rejected_share": 1,
    }
    build_through_adapter(project, run_vars)

    listed = project.query(
        "select stage_key, stage_name, stage_order, stage_type, pipeline_id, pipeline_name"
        " from staging.base_hubspot__pipeline_stages"
    )
    keys = {s["stage_key"] for s in stages}
    expected = [
        {
            "stage_key": pipeline_stage_key(pipeline.label, stage["stage_key"]),
            "stage_name": api_name(stage),
            "stage_order": stage["stage_order"] or None,
            "stage_type": stage["stage_type"],
            "pipeline_id": pipeline.pipeline_id,
            "pipeline_name": pipeline.label,
        }
        for pipeline in pipelines
        for stage in stages
    ]
    key = lambda row: (row["pipeline_id"], row["stage_key"])  # noqa: E731
    assert sorted(listed, key=key) == sorted(expected, key=key)
    assert len({row["stage_key"] for row in listed}) == 2 * len(stages)

    read = project.query(
        "select lead_id, stage_key, entered_at from staging.base_hubspot__raw_lead_transitions"
    )
    expected_changes = [
        {
            "lead_id": change["lead_id"],
            "stage_key": pipeline_stage_key(pipeline.label, change["stage_key"])
            if change["stage_key"] in keys
            else change["stage_key"],
            "entered_at": change.get("entered_at") or None,
        }
        for pipeline in pipelines
        for change in pipeline.transitions
    ]
    as_tuples = lambda rows: Counter(tuple(row.values()) for row in rows)  # noqa: E731
    assert as_tuples(read) == as_tuples(expected_changes)
    assert project.query("select * from staging.base_hubspot__left_out") == []

    as_generic = [
        {
            **stage,
            "stage_key": pipeline_stage_key(pipeline.label, stage["stage_key"]),
            "stage_name": api_name(stage),
            "pipeline_id": pipeline.pipeline_id,
            "pipeline_name": pipeline.label,
        }
        for pipeline in pipelines
        for stage in stages
    ]
    expected_marts = compute_marts(
        as_text(sales_leads + renewal_leads),
        as_text(expected_changes),
        as_text(as_generic),
        as_text(benchmarks),
        as_text(targets),
    )
    assert {row["pipeline_id"] for row in expected_marts["fct_pipeline_plan"]} == {
        "default",
        "98765",
    }
    assert_marts_match(project, expected_marts)

    unknown = project.dbt(
        "run",
        "--select",
        "base_hubspot__chosen_stages",
        extra_vars={**run_vars, "crm_pipeline": "1"},
        check=False,
    )
    assert unknown.returncode != 0
    assert "is '1', which is not a pipeline of HubSpot's deal stages" in unknown.stdout
    assert f"- 'default' (Sales pipeline): {len(sales_leads)} deals" in unknown.stdout
    assert f"- '98765' (Renewals): {len(renewal_leads)} deals" in unknown.stdout


@pytest.mark.parametrize("crm_name", ["salesforce", "pipedrive"])
def test_salesforce_and_pipedrive_read_every_pipeline_as_the_reference(
    crm_name, history, tmp_path: Path
):
    """Two pipelines, no crm_pipeline. Salesforce (Fivetran): a named
    record type (RecordType) and the opportunities without one (Default),
    on the org's one stage list. Pipedrive (dlt): pipelines 1 and 2, each
    with its own stage ids and its own won and lost, named by their ids.
    Every key is prefixed with its pipeline's name, and every mart equals
    the reference computed pipeline by pipeline, with each pipeline's own
    revenue target and a benchmark for the first pipeline's stages."""
    source = history if crm_name == "salesforce" else pipedrive_history(history, "dlt")
    (first_leads, first_changes, stages), (second_leads, second_changes, _) = (
        split_in_two_pipelines(source)
    )
    if crm_name == "salesforce":
        pipelines = [
            Pipeline(SALESFORCE_RECORD_TYPE, "New business", first_leads, first_changes, stages),
            Pipeline("default", "Default", second_leads, second_changes, stages),
        ]
        crm, loader = salesforce_tables(pipelines=pipelines), "fivetran"
        names = SALESFORCE_NAMES[loader]
    else:
        pipelines = [
            Pipeline("1", "1", first_leads, first_changes, stages),
            Pipeline("2", "2", second_leads, second_changes, stages),
        ]
        crm, loader = pipedrive_tables(loader="dlt", pipelines=pipelines), "dlt"
        names = PIPEDRIVE_NAMES[loader]
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, names)
    first = pipelines[0]
    benchmarks = [
        {**row, "stage_key": pipeline_stage_key(first.label, row["stage_key"])}
        for row in demo_config()["stage_benchmarks"]
        if row["stage_key"] in {stage["stage_key"] for stage in stages}
    ]
    targets = [
        {
            "pipeline_id": pipeline.pipeline_id,
            "target_month": "2025-09-01",
            "revenue_target_usd": revenue,
            "avg_deal_size_usd": "",
        }
        for pipeline, revenue in zip(pipelines, ("60000", "25000"), strict=True)
    ]
    config_path = tmp_path / "config"
    write_csv(config_path / "stage_benchmarks.csv", benchmarks, list(benchmarks[0]))
    write_csv(config_path / "revenue_targets.csv", targets, list(targets[0]))
    run_vars = {
        "crm": crm_name,
        "crm_loader": loader,
        "crm_schema": SCHEMA,
        "config_path": str(config_path),
        "max_rejected_share": 1,
    }
    build_through_adapter(project, run_vars)

    keys = {stage["stage_key"] for stage in stages}
    as_generic = [
        {
            **stage,
            "stage_key": pipeline_stage_key(pipeline.label, stage["stage_key"]),
            "pipeline_id": pipeline.pipeline_id,
            "pipeline_name": pipeline.label,
        }
        for pipeline in pipelines
        for stage in stages
    ]
    changes = [
        {
            **change,
            "stage_key": pipeline_stage_key(pipeline.label, change["stage_key"])
            if change["stage_key"] in keys
            else change["stage_key"],
        }
        for pipeline in pipelines
        for change in pipeline.transitions
    ]
    expected = compute_marts(
        as_text(first_leads + second_leads),
        as_text(changes),
        as_text(as_generic),
        as_text(benchmarks),
        as_text(targets),
    )
    planned = {row["pipeline_id"] for row in expected["fct_pipeline_plan"]}
    assert planned == {pipeline.pipeline_id for pipeline in pipelines}
    assert_marts_match(project, expected)


PIPEDRIVE_UNIT_TESTS = 8


def test_pipedrive_unknown_crm_pipeline_stops_listing_the_pipelines(history, tmp_path: Path):
    """Two pipelines; crm_pipeline names neither: the build stops at the
    stage list, listing each pipeline with its stages and deals."""
    leads, transitions, stages = pipedrive_history(history, "dlt")
    crm = pipedrive_tables(leads[:30], transitions, stages, "dlt", other_pipeline=2)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    write_tables(project, SCHEMA, crm, PIPEDRIVE_NAMES["dlt"])
    run_vars = {"crm": "pipedrive", "crm_loader": "dlt", "crm_schema": SCHEMA, "crm_pipeline": "7"}
    result = project.dbt(
        "run", "--select", "+base_pipedrive__pipeline_stages", extra_vars=run_vars, check=False
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert 'var crm_pipeline (env PIPELINE_CRM_PIPELINE) is "7", which is none of the' in output
    assert "  - pipeline 1: 4 stages, 30 deals" in output, output[-3000:]
    assert "  - pipeline 2: 4 stages, 2 deals" in output
    assert "Set crm_pipeline to one of their ids, or leave it empty" in output
