"""The whole warehouse against the independent reference implementation.

Each scenario generates CRM data full of edge cases, builds a copy of the
dbt project on it (seeds, or the team's own files through the raw_path var),
and compares every published column of the four marts with what
reference.compute_marts computes from the same raw text, at two as-of dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from dbt_project_harness import REPO, DbtProject, write_csv
from mart_checks import (
    as_text,
    check_scenario,
    demo_config,
    hand_written_edge_leads,
    transitions_for_edge_leads,
    two_pipeline_config,
    two_pipeline_history,
)
from reference import MART_COLUMNS, compute_marts, parse_timestamp

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS, generate, read_stages


def test_demo_config_from_seeds(tmp_path: Path):
    """Replaced seed files, default vars, many edge cases, two as-of dates;
    the one-pass history equals the reference as of each of its last 60
    days."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    stages = read_stages(REPO / "seeds/config/pipeline_stages.csv")
    leads, transitions = generate(
        400, seed=7, stages=stages, start=dt.date(2025, 1, 1), months=10, edge_case_rate=3
    )
    leads += hand_written_edge_leads()
    transitions += transitions_for_edge_leads("qualification", "discovery")
    project.write_seed("raw", "raw_leads", leads, LEAD_COLUMNS)
    project.write_seed("raw", "raw_lead_transitions", transitions, TRANSITION_COLUMNS)
    check_scenario(
        project,
        as_text(leads),
        as_text(transitions),
        demo_config(),
        as_of_dates=[None, "2025-06-15"],
        history_days=60,
    )


def test_daily_timestamps_from_csv_files_with_other_vars(tmp_path: Path):
    """The team's own CSV files (split in two, found by pattern) under
    raw_path; day-granular timestamps make ties everywhere, written
    dd/mm/yyyy as some CRMs export them; every var set. The second as-of
    date is four weeks after the first, so the change report compares the
    two."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    raw_path = tmp_path / "exports"
    stages = read_stages(REPO / "seeds/config/pipeline_stages.csv")
    leads, transitions = generate(
        300,
        seed=11,
        stages=stages,
        start=dt.date(2025, 1, 1),
        months=8,
        edge_case_rate=5,
        timestamp_granularity="day",
    )
    leads = day_first(leads, "created_at")
    transitions = day_first(transitions, "entered_at")
    write_csv(raw_path / "raw_leads.csv", leads, LEAD_COLUMNS)
    half = len(transitions) // 2
    write_csv(raw_path / "raw_lead_transitions_2025a.csv", transitions[:half], TRANSITION_COLUMNS)
    write_csv(raw_path / "raw_lead_transitions_2025b.csv", transitions[half:], TRANSITION_COLUMNS)
    project.vars = {"raw_path": str(raw_path)}
    check_scenario(
        project,
        as_text(leads),
        as_text(transitions),
        demo_config(),
        as_of_dates=["2025-05-03", "2025-05-31"],
        expected_days_factor=1.5,
        likely_dead_multiple=1.5,
        diagnosis_bandwidth_threshold=0.1,
        diagnosis_strict_threshold=0.08,
        input_timestamp_format=DAY_FIRST,
    )


DAY_FIRST = "%d/%m/%Y %H:%M:%S"


def day_first(rows: list[dict[str, str]], column: str) -> list[dict[str, str]]:
    """The rows with column's ISO-8601 timestamps rewritten in UTC as
    dd/mm/yyyy hh:mm:ss."""
    return [
        {**row, column: parse_timestamp(row[column]).strftime(DAY_FIRST)} if row[column] else row
        for row in rows
    ]


def test_two_pipelines_with_other_stages_from_parquet(tmp_path: Path):
    """Two pipelines in one project (config_path's pipeline_stages.csv names
    them): "partner" with other stage keys, four open stages and two lost
    ones, benchmarks for some stages only, and "inbound" with the demo's
    stages. Each has its own revenue target, and an overall one is planned
    for neither. The exports are Parquet files under raw_path; the
    expected days multiply the Kaplan-Meier median; days and months are Los
    Angeles's (UTC-8 or -7), so the as-of day ends and cohort months turn
    at local midnight. Amounts are reported in EUR at USD rates that change
    three times and start a month after the first deals (those convert to
    nothing). The reference computes each pipeline on its own, and each of
    the history's last 60 days as of that day."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    config_path = tmp_path / "config"
    config = two_pipeline_config()
    for name, rows in config.items():
        write_csv(config_path / f"{name}.csv", rows, list(rows[0]))
    write_csv(config_path / "exchange_rates.csv", USD_IN_EUR, list(USD_IN_EUR[0]))
    leads, transitions = two_pipeline_history(300, 150)
    raw_path = tmp_path / "exports"
    write_parquet(raw_path / "raw_leads.parquet", leads, LEAD_COLUMNS)
    write_parquet(raw_path / "raw_lead_transitions.parquet", transitions, TRANSITION_COLUMNS)
    project.vars = {
        "raw_path": str(raw_path),
        "raw_format": "parquet",
        "config_path": str(config_path),
    }
    check_scenario(
        project,
        as_text(leads),
        as_text(transitions),
        {**as_text_config(config), "exchange_rates": USD_IN_EUR},
        as_of_dates=[None, "2025-07-20"],
        history_days=60,
        expected_days_basis="km_median",
        business_time_zone="America/Los_Angeles",
        reporting_currency="EUR",
    )
    # Both pipelines are in every per-stage mart, and the plan has each
    # one's own target only.
    planned = project.query(
        "select pipeline_id, target_month, count(*) as stages from marts.fct_pipeline_plan "
        "group by pipeline_id, target_month order by pipeline_id, target_month"
    )
    assert [(row["pipeline_id"], str(row["target_month"])) for row in planned] == [
        ("inbound", "2025-10-01"),
        ("partner", "2025-10-01"),
        ("partner", "2025-11-01"),
    ]
    # The deals won before the first rate have no amount, and say so.
    notes = project.query(
        "select sum(row_count) as leads from marts.rpt_data_quality "
        "where reason = 'no_exchange_rate'"
    )
    expected = compute_marts(
        as_text(leads),
        as_text(transitions),
        *(
            as_text_config(config)[name]
            for name in ("pipeline_stages", "stage_benchmarks", "revenue_targets")
        ),
        as_of_date="2025-07-20",
        expected_days_basis="km_median",
        business_time_zone="America/Los_Angeles",
        reporting_currency="EUR",
        exchange_rates=USD_IN_EUR,
    )
    assert notes[0]["leads"] == len(expected["leads_without_exchange_rate"]) > 0


def as_text_config(
    config: dict[str, list[dict[str, str]]],
) -> dict[str, list[dict[str, str | None]]]:
    return {name: as_text(rows) for name, rows in config.items()}


# USD in EUR: from a month after the first deals, changing twice.
USD_IN_EUR = [
    {"currency": "usd", "rate_to_reporting": "0.95", "valid_from": "2025-02-01"},
    {"currency": "USD", "rate_to_reporting": "0.9", "valid_from": "2025-05-01"},
    {"currency": "USD ", "rate_to_reporting": "0.925", "valid_from": "2025-07-15"},
]


def write_parquet(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    csv_path = path.with_suffix(".staging.csv")
    write_csv(csv_path, rows, columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(
            f"copy (select * from read_csv('{csv_path}', header = true, all_varchar = true)) "
            f"to '{path}' (format parquet)"
        )
    csv_path.unlink()


@pytest.mark.parametrize("name", sorted(MART_COLUMNS))
def test_reference_columns_are_the_published_contract(name: str):
    """The reference's columns are the ones the marts' YAML publishes."""
    import yaml

    # Each mart's YAML is the file named after it (a history shares its mart's).
    marts = [
        model
        for path in (REPO / "models/marts").glob("*.yml")
        for model in yaml.safe_load(path.read_text())["models"]
    ]
    (published,) = [model for model in marts if model["name"] == name]
    assert [column["name"] for column in published["columns"]] == MART_COLUMNS[name]
