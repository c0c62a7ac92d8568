"""The warehouse's marts against the independent reference: the comparison,
a build-and-compare scenario, and the data the scenarios share (the demo
configuration, a second configuration with other stages, hand-written
edge rows). Used by test_marts_match_reference and by the tests that build
the same scenarios another way (own data, bad input, other engines)."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

from dbt_project_harness import REPO, DbtProject, write_csv
from reference import MART_COLUMNS, compute_marts, read_csv_rows, stage_conversion_history

from sales_pipeline.demo_data import generate, read_stages

STAGE_COLUMNS = ["stage_key", "stage_name", "stage_order", "stage_type", "default_expected_days"]
BENCHMARK_COLUMNS = ["stage_key", "benchmark_conversion_rate", "benchmark_source"]
TARGET_COLUMNS = ["target_month", "revenue_target_usd", "avg_deal_size_usd"]

MART_KEYS = {
    "fct_lead_stage_visits": ("lead_id", "visit_number"),
    "fct_stage_conversion": ("as_of_date", "stage_key"),
    "fct_pipeline_plan": ("target_month", "stage_key"),
    "rpt_old_leads": ("lead_id",),
    "fct_stage_conversion_by_dimension": ("dimension", "dimension_value", "stage_key"),
    "fct_win_rates": ("pipeline_id", "dimension", "dimension_value"),
    "fct_pipeline_value": ("pipeline_id", "stage_key"),
    "fct_stage_flow": ("stage_key", "to_stage_key"),
    "fct_cohort_conversion": ("cohort_month", "stage_key"),
    "fct_stage_time_to_advance": ("stage_key",),
    "rpt_stage_conversion_change": ("stage_key",),
    "fct_pipeline_movement": (
        "window_days",
        "owner_id",
        "stage_key",
        "movement",
        "other_stage_key",
    ),
    "fct_revenue_forecast": (
        "pipeline_id",
        "months_ahead",
        "forecast_source",
        "owner_id",
        "stage_key",
    ),
    "fct_forecast_backtest": (
        "pipeline_id",
        "as_of_date",
        "months_ahead",
        "forecast_method",
        "stage_key",
    ),
    "rpt_forecast_accuracy": ("pipeline_id", "forecast_method", "months_ahead"),
}


# A second configuration with other keys, four open stages (orders not
# 1..n) and two lost stages; one stage without a benchmark or a default.
OTHER_STAGES = [
    {
        "stage_key": "new",
        "stage_name": "New",
        "stage_order": "10",
        "stage_type": "open",
        "default_expected_days": "5",
    },
    {
        "stage_key": "contacted",
        "stage_name": "Contacted",
        "stage_order": "20",
        "stage_type": "open",
        "default_expected_days": "",
    },
    {
        "stage_key": "demo",
        "stage_name": "Demo",
        "stage_order": "30",
        "stage_type": "open",
        "default_expected_days": "10",
    },
    {
        "stage_key": "negotiation",
        "stage_name": "Negotiation",
        "stage_order": "40",
        "stage_type": "open",
        "default_expected_days": "",
    },
    {
        "stage_key": "signed",
        "stage_name": "Signed",
        "stage_order": "50",
        "stage_type": "won",
        "default_expected_days": "",
    },
    {
        "stage_key": "disqualified",
        "stage_name": "Disqualified",
        "stage_order": "",
        "stage_type": "lost",
        "default_expected_days": "",
    },
    {
        "stage_key": "no_decision",
        "stage_name": "No decision",
        "stage_order": "",
        "stage_type": "lost",
        "default_expected_days": "",
    },
]
OTHER_BENCHMARKS = [
    {"stage_key": "new", "benchmark_conversion_rate": "0.5", "benchmark_source": "test"},
    {"stage_key": "demo", "benchmark_conversion_rate": "0.9", "benchmark_source": "test"},
    {"stage_key": "negotiation", "benchmark_conversion_rate": "0.2", "benchmark_source": "test"},
]
OTHER_TARGETS = [
    {"target_month": "2025-10-01", "revenue_target_usd": "120000", "avg_deal_size_usd": ""},
    {"target_month": "2025-11-01", "revenue_target_usd": "0.07", "avg_deal_size_usd": "0.01"},
]
OTHER_CONFIG = {
    "pipeline_stages": OTHER_STAGES,
    "stage_benchmarks": OTHER_BENCHMARKS,
    "revenue_targets": OTHER_TARGETS,
}
CONFIG_COLUMNS = {
    "pipeline_stages": STAGE_COLUMNS,
    "stage_benchmarks": BENCHMARK_COLUMNS,
    "revenue_targets": TARGET_COLUMNS,
}


def write_other_config(folder: Path) -> None:
    """The second configuration as the three configuration CSV files."""
    for name, rows in OTHER_CONFIG.items():
        write_csv(folder / f"{name}.csv", rows, CONFIG_COLUMNS[name])


def other_stage_data(leads: int, seed: int = 23) -> tuple[list[dict], list[dict]]:
    """Generated leads and stage changes of the second configuration
    (minute timestamps, many edge cases), with the hand-written edge rows."""
    lead_rows, transitions = generate(
        leads,
        seed=seed,
        stages=OTHER_STAGES,
        start=dt.date(2025, 1, 1),
        months=9,
        edge_case_rate=4,
        timestamp_granularity="minute",
    )
    return (
        lead_rows + hand_written_edge_leads(),
        transitions + transitions_for_edge_leads("new", "demo"),
    )


def hand_written_edge_leads() -> list[dict[str, str]]:
    """Lead rows a generator does not write: a lead without transitions, an
    exact duplicate lead row, and text with stray spaces and capitals."""
    leads = [
        {
            "lead_id": "X-NO-EVENTS",
            "created_at": "2025-02-01T00:00:00Z",
            "lead_source": "Inbound",
            "segment": "SMB",
            "owner_id": "rep_01",
            "deal_amount_usd": "100",
        },
        {
            "lead_id": " X-SPACES ",
            "created_at": "2025-02-01 08:00:00",
            "lead_source": " event",
            "segment": "smb",
            "owner_id": " rep_02",
            "deal_amount_usd": "",
        },
    ]
    leads.append(dict(leads[0]))
    # Quarantined: one lead_id with two different rows, a non-numeric amount.
    conflict = {**leads[0], "lead_id": "X-CONFLICT"}
    leads += [conflict, {**conflict, "owner_id": "rep_03"}]
    leads.append({**leads[0], "lead_id": "X-BAD-AMOUNT", "deal_amount_usd": "12k"})
    leads.append({**leads[0], "lead_id": "X-BAD-CREATED", "created_at": "last Tuesday"})
    return leads


def transitions_for_edge_leads(first_stage: str, second_stage: str) -> list[dict[str, str]]:
    """A lead whose id and stage key carry stray spaces and capitals (its
    first change at the instant it was created, the next one written with
    an offset), and rows the warehouse must quarantine."""
    return [
        {
            "lead_id": "X-SPACES",
            "stage_key": f" {first_stage.upper()} ",
            "entered_at": "2025-02-01T08:00:00Z",
        },
        {
            "lead_id": "X-SPACES",
            "stage_key": second_stage,
            "entered_at": "2025-03-01T10:00:00+02:00",
        },
        # Quarantined: a lead missing from raw_leads, leads whose rows are
        # quarantined, a change before the lead was created.
        {"lead_id": "X-ORPHAN", "stage_key": first_stage, "entered_at": "2025-03-04T10:00:00Z"},
        {"lead_id": "X-CONFLICT", "stage_key": first_stage, "entered_at": "2025-02-02T00:00:00Z"},
        {"lead_id": "X-BAD-CREATED", "stage_key": first_stage, "entered_at": "2025-02-02"},
        {"lead_id": "X-SPACES", "stage_key": first_stage, "entered_at": "2025-02-01T09:59+02:00"},
        # Quarantined: an unknown stage and a date that is not ISO-8601.
        {"lead_id": "X-SPACES", "stage_key": "not_a_stage", "entered_at": "2025-02-03T00:00:00Z"},
        {"lead_id": "X-SPACES", "stage_key": second_stage, "entered_at": "03/02/2025"},
    ]


def assert_marts_match(project: DbtProject, expected: dict[str, list[dict]]) -> None:
    marts = MART_COLUMNS
    read = project.mart_query([f"select * from marts.{mart}" for mart in marts])
    for (mart, columns), (names, rows) in zip(marts.items(), read, strict=True):
        assert names == columns, f"{mart} publishes {names}, the spec says {columns}"
        key = MART_KEYS[mart]
        actual_by_key = {tuple(row[k] for k in key): row for row in rows}
        expected_by_key = {tuple(row[k] for k in key): row for row in expected[mart]}
        assert len(actual_by_key) == len(rows), f"{mart}: duplicate keys"
        missing = sorted(set(expected_by_key) - set(actual_by_key), key=str)[:5]
        extra = sorted(set(actual_by_key) - set(expected_by_key), key=str)[:5]
        assert not missing and not extra, f"{mart}: rows missing {missing}, unexpected {extra}"
        for row_key, want in expected_by_key.items():
            got = actual_by_key[row_key]
            for column in columns:
                assert values_equal(got[column], want[column]), (
                    f"{mart} {row_key} {column}: "
                    f"warehouse {got[column]!r}, reference {want[column]!r}"
                )


def assert_rows_equal(got: list[dict], want: list[dict], what: str) -> None:
    """The same (as_of_date, pipeline_id, stage_key) rows, equal in every
    column of fct_stage_conversion (floats within 1e-9)."""

    def keyed(rows: list[dict]) -> dict[tuple, dict]:
        return {(row["as_of_date"], row["pipeline_id"], row["stage_key"]): row for row in rows}

    got_by_key, want_by_key = keyed(got), keyed(want)
    assert len(got_by_key) == len(got), f"{what}: duplicate keys"
    only_got = sorted(set(got_by_key) - set(want_by_key), key=str)[:5]
    only_want = sorted(set(want_by_key) - set(got_by_key), key=str)[:5]
    assert not only_got and not only_want, (
        f"{what}: rows only in the warehouse {only_got}, only in the reference {only_want}"
    )
    for key, row in want_by_key.items():
        for column in MART_COLUMNS["fct_stage_conversion"]:
            assert values_equal(got_by_key[key][column], row[column]), (
                f"{what} {key} {column}: warehouse {got_by_key[key][column]!r}, "
                f"reference {row[column]!r}"
            )


def values_equal(got: object, want: object) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(want, float) or isinstance(got, float):
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(want, dt.datetime) or isinstance(got, dt.datetime):
        return got == want
    return got == want and type(got) is type(want)


def check_scenario(
    project: DbtProject,
    raw_leads,
    raw_transitions,
    config: dict[str, list[dict]],
    as_of_dates,
    history_days: int = 0,
    **spec_vars,
):
    """Build at each as-of date (None = the default) and compare the marts.
    config holds the rows of pipeline_stages, stage_benchmarks and revenue_targets
    (and of exchange_rates, when the scenario has them).
    The history's as-of day and the day rpt_stage_conversion_change
    compares with are compared too; with history_days, the last build's
    history on each of its last history_days days, against the reference
    as of each of them."""
    options = reference_options(spec_vars, config)
    for as_of_date in as_of_dates:
        run_vars = {"as_of_date": as_of_date, **spec_vars}
        project.dbt("build", extra_vars=run_vars)
        expected = check_built(
            project, raw_leads, raw_transitions, config, as_of_date=as_of_date, **spec_vars
        )
    if history_days:
        last_day = expected["fct_stage_conversion"][0]["as_of_date"]
        days = [last_day - dt.timedelta(days=back) for back in range(history_days)]
        _, history = project.mart("fct_stage_conversion_daily")
        assert_rows_equal(
            [row for row in history if row["as_of_date"] in days],
            stage_conversion_history(
                raw_leads,
                raw_transitions,
                config["pipeline_stages"],
                config["stage_benchmarks"],
                days,
                **options,
            ),
            f"the history's last {history_days} days",
        )


def check_built(
    project: DbtProject,
    raw_leads,
    raw_transitions,
    config: dict[str, list[dict]],
    as_of_date: str | None = None,
    **spec_vars,
) -> dict[str, list[dict]]:
    """The project as last built (with these vars) against the reference:
    every mart, and the history on its as-of day and compared day. Returns
    the reference's marts."""
    expected = compute_marts(
        raw_leads,
        raw_transitions,
        config["pipeline_stages"],
        config["stage_benchmarks"],
        config["revenue_targets"],
        as_of_date=as_of_date,
        **reference_options(spec_vars, config),
    )
    assert expected["fct_stage_conversion"], "the scenario must produce conversion rows"
    assert expected["rpt_old_leads"], "the scenario must contain old leads"
    assert_marts_match(project, expected)
    assert_history_days_match(project, expected)
    return expected


def reference_options(spec_vars: dict, config: dict[str, list[dict]]) -> dict:
    """The reference's options for a build's vars (its defaults where unset)."""
    return {
        "expected_days_factor": spec_vars.get("expected_days_factor", 2.0),
        "expected_days_basis": spec_vars.get("expected_days_basis", "average"),
        "likely_dead_multiple": spec_vars.get("likely_dead_multiple", 3.0),
        "diagnosis_bandwidth_threshold": spec_vars.get("diagnosis_bandwidth_threshold", 0.25),
        "diagnosis_strict_threshold": spec_vars.get("diagnosis_strict_threshold", 0.05),
        "input_timestamp_format": spec_vars.get("input_timestamp_format"),
        "business_time_zone": spec_vars.get("business_time_zone", "UTC"),
        "reporting_currency": spec_vars.get("reporting_currency", "USD"),
        "exchange_rates": config.get("exchange_rates"),
    }


def assert_history_days_match(project: DbtProject, expected: dict[str, list[dict]]) -> None:
    """fct_stage_conversion_daily on the as-of date is fct_stage_conversion;
    on the day rpt_stage_conversion_change compares with, it is the earlier
    values that mart has (when that day is in the history)."""
    _, history = project.mart("fct_stage_conversion_daily")
    now = expected["fct_stage_conversion"]
    as_of = now[0]["as_of_date"]
    compared = expected["rpt_stage_conversion_change"][0]["compared_date"]
    assert_rows_equal(
        [row for row in history if row["as_of_date"] == as_of], now, "history on the as-of date"
    )
    earlier = [row for row in history if row["as_of_date"] == compared]
    changes = {row["stage_key"]: row for row in expected["rpt_stage_conversion_change"]}
    if not any(row["earlier_conversion_rate"] is not None for row in changes.values()):
        return
    assert earlier, f"the history has no row on {compared}"
    for row in earlier:
        change = changes[row["stage_key"]]
        assert values_equal(row["conversion_rate"], change["earlier_conversion_rate"])
        assert values_equal(row["leads_old"], change["earlier_leads_old"])


def demo_config() -> dict[str, list[dict[str, str | None]]]:
    """The committed configuration seeds, as the reference reads them."""
    return {
        name: read_csv_rows(str(REPO / f"seeds/config/{name}.csv"))
        for name in ("pipeline_stages", "stage_benchmarks", "revenue_targets")
    }


def demo_goals_folder(folder: Path) -> dict[str, str]:
    """A config_path folder with the demo's stage benchmarks and revenue
    targets and no stage list (the CRM's): a build through a CRM adapter
    reads no demo configuration without it. Returns the var."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("stage_benchmarks", "revenue_targets"):
        shutil.copyfile(REPO / f"seeds/config/{name}.csv", folder / f"{name}.csv")
    return {"config_path": str(folder)}


def two_pipeline_history(
    partner_leads: int, inbound_leads: int, edge_case_rate: float = 4
) -> tuple[list[dict], list[dict]]:
    """Leads and stage changes of two_pipeline_config's pipelines: the
    second configuration's generated data ("partner", with the hand-written
    edge rows) and the demo stages' ("inbound", lead ids prefixed IN-)."""
    leads, transitions = other_stage_data(partner_leads)
    inbound, inbound_transitions = generate(
        inbound_leads,
        seed=29,
        stages=read_stages(REPO / "seeds/config/pipeline_stages.csv"),
        start=dt.date(2025, 1, 1),
        months=9,
        edge_case_rate=edge_case_rate,
        timestamp_granularity="minute",
    )
    leads += [{**row, "lead_id": f"IN-{row['lead_id']}"} for row in inbound]
    transitions += [{**row, "lead_id": f"IN-{row['lead_id']}"} for row in inbound_transitions]
    return leads, transitions


def two_pipeline_config() -> dict[str, list[dict[str, str]]]:
    """The second configuration as pipeline "partner" and the demo's stages
    as pipeline "inbound", in one set of configuration files."""
    demo = demo_config()
    stages = [
        {**row, "pipeline_id": "partner", "pipeline_name": "Partner deals"}
        for row in OTHER_CONFIG["pipeline_stages"]
    ] + [
        {
            **{k: v or "" for k, v in row.items()},
            "pipeline_id": "inbound",
            "pipeline_name": "Inbound",
        }
        for row in demo["pipeline_stages"]
    ]
    benchmarks = OTHER_CONFIG["stage_benchmarks"] + [
        {k: v or "" for k, v in row.items()} for row in demo["stage_benchmarks"]
    ]
    targets = [
        {**OTHER_CONFIG["revenue_targets"][0], "pipeline_id": "partner"},
        {**OTHER_CONFIG["revenue_targets"][1], "pipeline_id": "partner"},
        {
            "target_month": "2025-10-01",
            "revenue_target_usd": "50000",
            "avg_deal_size_usd": "",
            "pipeline_id": "inbound",
        },
        # Overall: with two pipelines it is split between neither (a warning).
        {
            "target_month": "2025-12-01",
            "revenue_target_usd": "90000",
            "avg_deal_size_usd": "",
            "pipeline_id": "",
        },
    ]
    return {"pipeline_stages": stages, "stage_benchmarks": benchmarks, "revenue_targets": targets}


def as_text(rows: list[dict[str, str]]) -> list[dict[str, str | None]]:
    """Rows as the reference reads them from a CSV: '' is missing."""
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in rows]


def assert_same_marts(
    duckdb_project: DbtProject,
    postgres_project: DbtProject,
    leave_out: tuple[str, ...] = (),
    may_be_empty: tuple[str, ...] = (),
    other_pipeline_name: bool = False,
) -> tuple | None:
    """Every table of schema marts (but leave_out) holds the same rows in
    both warehouses (loaded_at aside), floats equal to 1e-12; the first is
    on DuckDB. Each holds rows (but may_be_empty): equal empty marts prove
    nothing. other_pipeline_name: the second names its one pipeline its own
    way (a CRM's id and label, the first the default pipeline); the pipeline
    columns are compared apart, and the second's (pipeline_id,
    pipeline_name) is returned."""
    marts = sorted(
        row["table_name"]
        for row in duckdb_project.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
        if row["table_name"] not in leave_out
    )
    assert len(marts) >= 10, marts
    for name, duck, postgres in zip(
        marts,
        duckdb_project.mart_query([f"select * from marts.{m}" for m in marts]),
        postgres_project.mart_query([f"select * from marts.{m}" for m in marts]),
        strict=True,
    ):
        assert duck[0] == postgres[0], f"{name}: columns differ"
        assert duck[1] or name in may_be_empty, f"{name} is empty"
        skipped = {"loaded_at"} | (
            {"pipeline_id", "pipeline_name"} if other_pipeline_name else set()
        )
        columns = [c for c in duck[0] if c not in skipped]
        duck_rows, postgres_rows = (
            sorted((tuple(row[c] for c in columns) for row in rows), key=non_float_key)
            for rows in (duck[1], postgres[1])
        )
        assert len(duck_rows) == len(postgres_rows), name
        for want, got in zip(duck_rows, postgres_rows, strict=True):
            assert all(same_value(a, b) for a, b in zip(want, got, strict=True)), (name, want, got)
    if other_pipeline_name:
        pairs = {
            (row["pipeline_id"], row["pipeline_name"])
            for row in postgres_project.query(
                "select pipeline_id, pipeline_name from marts.dim_stages"
            )
        }
        first = duckdb_project.query(
            "select distinct pipeline_id, pipeline_name from marts.dim_stages"
        )
        assert [(row["pipeline_id"], row["pipeline_name"]) for row in first] == [
            ("default", "Sales pipeline")
        ]
        assert len(pairs) == 1, pairs
        return pairs.pop()
    return None


def non_float_key(row: tuple) -> tuple:
    """Rows ordered by their exact values: floats may differ in the last bits."""
    return tuple(repr(value) for value in row if not isinstance(value, float))


def same_value(duck: object, postgres: object) -> bool:
    if isinstance(duck, float) or isinstance(postgres, float):
        return (
            duck is not None
            and postgres is not None
            and math.isclose(float(duck), float(postgres), rel_tol=1e-12, abs_tol=1e-12)
        )
    return duck == postgres
