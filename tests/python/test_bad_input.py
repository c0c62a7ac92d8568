"""Bad input, each kind handled on purpose: a quarantine row with its
reason, or a build that stops with a message naming the problem; never an
engine error, never a silent drop.

One build of exports holding every kind of bad row serves one test per
kind (the row lands in the quarantine with that reason, and nowhere else);
configuration errors and CSV quirks get builds of their own. On PostgreSQL
and Spark (tests/engines) the same rows are the raw seeds, and the same
tests run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dbt_project_harness import PUBLISHED_MARTS, REPO, TARGET, DbtProject

# Lead L1 is good; every other row is one kind of bad input.
BAD_LEADS = (
    "lead_id,created_at,lead_source,segment,owner_id,deal_amount_usd\n"
    "L1,2025-01-01T00:00:00Z,web,smb,rep_01,1000\n"
    "L1,2025-01-01T00:00:00Z,web,smb,rep_01,1000\n"
    "  ,2025-01-01T00:00:00Z,web,smb,rep_01,10\n"
    "L2,2025-01-01T00:00:00Z,web,smb,rep_01,10\n"
    "L2,2025-01-01T00:00:00Z,web,smb,rep_02,10\n"
    'L3,2025-01-01T00:00:00Z,web,smb,rep_01,"1,000"\n'
    "L4,2025-01-01T00:00:00Z,web,smb,rep_01,-5\n"
    "L5,01/01/2025,web,smb,rep_01,10\n"
    "L6,2052-01-15T00:00:00Z,web,smb,rep_01,10\n"
)
BAD_TRANSITIONS = (
    "lead_id,stage_key,entered_at\n"
    "L1,qualification,2025-01-01T00:00:00Z\n"
    "L1,qualification,2025-01-01T00:00:00Z\n"
    "L1,discovery,2025-01-03T00:00:00Z\n"
    ",qualification,2025-01-01T00:00:00Z\n"
    "L1,meeting,03/01/2025\n"
    "L1,demo_call,2025-01-04T00:00:00Z\n"
    "X9,qualification,2025-01-02T00:00:00Z\n"
    "L2,qualification,2025-01-02T00:00:00Z\n"
    "L5,qualification,2025-01-02T00:00:00Z\n"
    "L1,qualification,2024-12-31T23:59:59Z\n"
    "L1,proposal,2025-01-05T00:00:00+02:00\n"
    "L1,closed_lost,9999-12-31T00:00:00Z\n"
)
AS_OF_DATE = "2025-01-03"


def bad_exports(tmp_path: Path) -> DbtProject:
    """The bad rows as export files under raw_path (DuckDB), or as the raw
    seeds on the other engines."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"as_of_date": AS_OF_DATE}
    folder = project.root / "seeds/raw"
    if TARGET == "duckdb":
        folder = tmp_path / "exports"
        folder.mkdir()
        project.vars["raw_path"] = str(folder)
    (folder / "raw_leads.csv").write_text(BAD_LEADS)
    (folder / "raw_lead_transitions.csv").write_text(BAD_TRANSITIONS)
    return project


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    project = bad_exports(tmp_path_factory.mktemp("bad"))
    result = project.dbt("build", extra_vars={"max_rejected_share": 1})
    project.build_output = result.stdout  # type: ignore[attr-defined]
    return project


def rejected_leads(project: DbtProject, lead_id: str | None) -> list[dict]:
    where = "lead_id is null" if lead_id is None else f"lead_id = '{lead_id}'"
    return project.query(
        "select owner_id, created_at, unparsed_created_at, deal_amount_text, rejection_reason, "
        f"source_row_count from marts.rejected_leads where {where} order by owner_id"
    )


def rejected_transitions(project: DbtProject, lead_id: str | None) -> list[dict]:
    where = "lead_id is null" if lead_id is None else f"lead_id = '{lead_id}'"
    rows = project.query(
        "select stage_key, entered_at, unparsed_entered_at, "
        f"rejection_reason from marts.rejected_lead_transitions where {where}"
    )
    rows = [{**row, "entered_at": none_or_text(row["entered_at"])} for row in rows]
    # Ordered as SQL's order by stage_key, entered_at: nulls last.
    return sorted(
        rows, key=lambda row: [(row[k] is None, row[k] or "") for k in ("stage_key", "entered_at")]
    )


def none_or_text(value: object) -> str | None:
    return None if value is None else str(value)


def visit_leads(project: DbtProject) -> set[str]:
    return {
        row["lead_id"] for row in project.query("select lead_id from marts.fct_lead_stage_visits")
    }


# --- leads -------------------------------------------------------------------


def test_blank_lead_id_of_a_lead(quarantined: DbtProject):
    [row] = rejected_leads(quarantined, None)
    assert (row["owner_id"], row["rejection_reason"]) == ("rep_01", "missing_lead_id")


def test_duplicate_lead_rows_with_conflicting_attributes(quarantined: DbtProject):
    rows = rejected_leads(quarantined, "L2")
    assert [(r["owner_id"], r["rejection_reason"]) for r in rows] == [
        ("rep_01", "conflicting_lead_rows"),
        ("rep_02", "conflicting_lead_rows"),
    ]


def test_exact_duplicate_lead_rows_count_once(quarantined: DbtProject):
    assert rejected_leads(quarantined, "L1") == []
    [lead] = quarantined.query(
        "select source_row_count from intermediate.int_leads_checked where lead_id = 'L1'"
    )
    assert lead["source_row_count"] == 2


def test_non_numeric_amount(quarantined: DbtProject):
    [row] = rejected_leads(quarantined, "L3")
    assert (row["deal_amount_text"], row["rejection_reason"]) == (
        "1,000",
        "unparseable_deal_amount",
    )


def test_negative_amount(quarantined: DbtProject):
    [row] = rejected_leads(quarantined, "L4")
    assert (row["deal_amount_text"], row["rejection_reason"]) == ("-5", "negative_deal_amount")


def test_unparseable_created_at(quarantined: DbtProject):
    [row] = rejected_leads(quarantined, "L5")
    assert (row["created_at"], row["unparsed_created_at"], row["rejection_reason"]) == (
        None,
        "01/01/2025",
        "unparseable_created_at",
    )


# --- stage changes -----------------------------------------------------------


def test_blank_lead_id_of_a_stage_change(quarantined: DbtProject):
    assert rejected_transitions(quarantined, None) == [
        {
            "stage_key": "qualification",
            "entered_at": "2025-01-01 00:00:00",
            "unparsed_entered_at": None,
            "rejection_reason": "missing_lead_id",
        }
    ]


def test_unparseable_timestamp(quarantined: DbtProject):
    [row] = [r for r in rejected_transitions(quarantined, "L1") if r["stage_key"] == "meeting"]
    assert (row["entered_at"], row["unparsed_entered_at"], row["rejection_reason"]) == (
        None,
        "03/01/2025",
        "unparseable_entered_at",
    )


def test_unknown_stage_key(quarantined: DbtProject):
    [row] = [r for r in rejected_transitions(quarantined, "L1") if r["stage_key"] == "demo_call"]
    assert row["rejection_reason"] == "unknown_stage_key"


def test_stage_change_of_a_lead_missing_from_raw_leads(quarantined: DbtProject):
    [row] = rejected_transitions(quarantined, "X9")
    assert row["rejection_reason"] == "unknown_lead_id"
    assert "X9" not in visit_leads(quarantined)


@pytest.mark.parametrize("lead_id", ["L2", "L5"])
def test_stage_change_of_a_quarantined_lead(quarantined: DbtProject, lead_id: str):
    [row] = rejected_transitions(quarantined, lead_id)
    assert row["rejection_reason"] == "lead_rejected"
    assert lead_id not in visit_leads(quarantined)


def test_dates_after_the_build_are_in_the_future(quarantined: DbtProject):
    [lead] = rejected_leads(quarantined, "L6")
    assert lead["rejection_reason"] == "in_the_future"
    assert str(lead["created_at"]) == "2052-01-15 00:00:00"
    changes = rejected_transitions(quarantined, "L1")
    [change] = [r for r in changes if r["rejection_reason"] == "in_the_future"]
    assert (change["stage_key"], change["entered_at"]) == ("closed_lost", "9999-12-31 00:00:00")


def test_stage_change_before_the_lead_was_created(quarantined: DbtProject):
    [row] = [
        r
        for r in rejected_transitions(quarantined, "L1")
        if r["rejection_reason"] == "before_lead_created"
    ]
    assert (row["stage_key"], row["entered_at"]) == ("qualification", "2024-12-31 23:59:59")


def test_stage_change_after_the_as_of_date_is_kept_but_not_counted(quarantined: DbtProject):
    # 2025-01-05T00:00:00+02:00 is 2025-01-04 22:00 UTC, after 2025-01-03.
    assert [
        r for r in rejected_transitions(quarantined, "L1") if r["stage_key"] == "proposal"
    ] == []
    visits = quarantined.query(
        "select stage_key, exit_type from marts.fct_lead_stage_visits order by visit_number"
    )
    assert visits == [
        {"stage_key": "qualification", "exit_type": "advanced"},
        {"stage_key": "discovery", "exit_type": "open"},
    ]
    [after] = quarantined.query(
        "select row_count from marts.rpt_data_quality where reason = 'after_as_of_date'"
    )
    assert after["row_count"] == 1


def test_every_raw_row_is_counted_once(quarantined: DbtProject):
    quality = {
        (row["table_name"], row["outcome"], row["reason"]): row["row_count"]
        for row in quarantined.query("select * from marts.rpt_data_quality")
    }
    assert quality == {
        ("raw_leads", "accepted", None): 1,
        ("raw_leads", "duplicate", None): 1,
        ("raw_leads", "rejected", "conflicting_lead_rows"): 2,
        ("raw_leads", "rejected", "missing_lead_id"): 1,
        ("raw_leads", "rejected", "unparseable_deal_amount"): 1,
        ("raw_leads", "rejected", "negative_deal_amount"): 1,
        ("raw_leads", "rejected", "unparseable_created_at"): 1,
        ("raw_leads", "rejected", "in_the_future"): 1,
        ("raw_lead_transitions", "accepted", "after_as_of_date"): 1,
        ("raw_lead_transitions", "accepted", None): 2,
        ("raw_lead_transitions", "duplicate", None): 1,
        ("raw_lead_transitions", "rejected", "missing_lead_id"): 1,
        ("raw_lead_transitions", "rejected", "unparseable_entered_at"): 1,
        ("raw_lead_transitions", "rejected", "unknown_stage_key"): 1,
        ("raw_lead_transitions", "rejected", "unknown_lead_id"): 1,
        ("raw_lead_transitions", "rejected", "lead_rejected"): 2,
        ("raw_lead_transitions", "rejected", "before_lead_created"): 1,
        ("raw_lead_transitions", "rejected", "in_the_future"): 1,
    }
    raw_rows = {"raw_leads": 9, "raw_lead_transitions": 12}  # the data lines above
    for table, rows in raw_rows.items():
        assert sum(n for (name, _, _), n in quality.items() if name == table) == rows


def test_rejected_rows_warn(quarantined: DbtProject):
    # warn_rejected_share (default 0): both raw tables have rejected rows.
    assert "WARN 2 rejected_share_within_warning" in quarantined.build_output


def test_too_many_rejected_rows_fail_the_build(tmp_path: Path):
    result = bad_exports(tmp_path).dbt("build", check=False)
    assert result.returncode != 0
    assert "FAIL 2 assert_rejected_share_within_limit" in result.stdout


# --- files -------------------------------------------------------------------


def test_empty_export_files_build_empty_marts(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "raw_leads.csv").write_text(
        "lead_id,created_at,lead_source,segment,owner_id,deal_amount_usd\n"
    )
    (exports / "raw_lead_transitions.csv").write_text("lead_id,stage_key,entered_at\n")
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports)}
    project.dbt("build")
    for mart in PUBLISHED_MARTS:
        [row] = project.query(f"select count(*) as n from marts.{mart}")
        assert row["n"] == (6 if mart == "dim_stages" else 0), mart


def test_exports_with_bom_crlf_and_quoted_commas_build(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    bom = "\ufeff"
    (exports / "raw_leads.csv").write_text(
        f"{bom}lead_id,created_at,lead_source,segment,owner_id,deal_amount_usd\r\n"
        'L1,2025-01-01T00:00:00Z,"web, inbound",smb,rep_01,"1000.50"\r\n',
        encoding="utf-8",
        newline="",
    )
    (exports / "raw_lead_transitions.csv").write_text(
        f"{bom}lead_id,stage_key,entered_at\r\n"
        "L1,qualification,2025-01-01T00:00:00Z\r\n"
        "L1,discovery,2025-01-03T12:00:00+02:00\r\n",
        encoding="utf-8",
        newline="",
    )
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports)}
    project.dbt("build")
    visits = project.query(
        "select stage_key, dwell_days, lead_source from marts.fct_lead_stage_visits "
        "order by visit_number"
    )
    assert visits == [
        {
            "stage_key": "qualification",
            "dwell_days": 2.4166666666666665,
            "lead_source": "web, inbound",
        },
        {"stage_key": "discovery", "dwell_days": None, "lead_source": "web, inbound"},
    ]


CONFIG_HEADERS = {
    "pipeline_stages": "stage_key,stage_name,stage_order,stage_type,default_expected_days\n",
    "stage_benchmarks": "stage_key,benchmark_conversion_rate,benchmark_source\n",
    "revenue_targets": "target_month,revenue_target_usd,avg_deal_size_usd\n",
}


@pytest.mark.parametrize(
    ("seeds", "messages"),
    [
        (
            {
                "pipeline_stages": "qualification,Qualification,1,open,14\n"
                "discovery,Discovery,1,open,0\n"
                "meeting,Meeting,one,open,\n"
                "demo,Demo,4,pending,\n"
                "lost,Lost,,lost,\n",
                "stage_benchmarks": "qualification,1.2,x\ndiscovery,0.5,x\ndiscovery,0.6,x\n",
                "revenue_targets": "2026-09-01,0,\n2026-10-15,100,\n2026-11-01,100,-5\n",
            },
            [
                "Configuration error in seeds/config/pipeline_stages.csv:",
                "  - row stage_key='demo': stage_type 'pending' is not open, won or lost",
                "  - row stage_key='discovery': default_expected_days '0' is not a number of"
                " days above 0",
                "  - row stage_key='meeting': stage_order 'one' is not a whole number"
                " of at least 1",
                "  - rows stage_key='discovery', 'qualification': they share stage_order 1;"
                " orders must be unique",
                "  - no row has stage_type won: add the one won stage, after every open stage",
                "Configuration error in seeds/config/stage_benchmarks.csv:",
                "  - row stage_key='discovery': the key appears on 2 rows; keys must be unique",
                "  - row stage_key='qualification': benchmark_conversion_rate '1.2' is not a"
                " rate between 0 and 1",
                "Configuration error in seeds/config/revenue_targets.csv:",
                "  - row target_month='2026-09-01': revenue_target_usd '0' is not an"
                " amount above 0",
                "  - row target_month='2026-10-15': target_month must be the first day of a month",
                "  - row target_month='2026-11-01': avg_deal_size_usd '-5' is not an amount above 0"
                " (leave it empty to use the observed average won deal)",
            ],
        ),
        (
            {
                "pipeline_stages": "qualification,Qualification,1,open,\n"
                "proposal,Proposal,4,open,\n"
                "won,Won,3,won,\n"
                "signed,Signed,5,won,\n"
                "lost,Lost,6,lost,\n",
            },
            [
                "Configuration error in seeds/config/pipeline_stages.csv:",
                "  - row stage_key='lost': a lost stage has no stage_order (got '6')",
                "  - 2 rows have stage_type won: exactly one won stage is allowed",
            ],
        ),
    ],
    ids=["many_problems", "two_won_stages"],
)
def test_a_broken_configuration_stops_the_build_naming_the_rows(
    tmp_path: Path, seeds: dict[str, str], messages: list[str]
):
    project = bad_exports(tmp_path)
    (project.root / "seeds/config/stage_benchmarks.csv").write_text(
        CONFIG_HEADERS["stage_benchmarks"]
    )
    for name, rows in seeds.items():
        (project.root / f"seeds/config/{name}.csv").write_text(CONFIG_HEADERS[name] + rows)
    result = project.dbt("build", check=False, extra_vars={"max_rejected_share": 1})
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    for message in messages:
        assert " ".join(message.split()) in output, message
    assert "Traceback" not in result.stdout + result.stderr
    assert not project.relation_exists("marts", "fct_stage_conversion")


def test_broken_exchange_rates_stop_the_build_naming_the_rows(tmp_path: Path):
    """config_path's exchange_rates.csv, with no export files (the loader
    lands the configuration alone): every broken row is named, and nothing
    past the configuration is built. The same build checks the rules of
    several pipelines: each pipeline's own (one name, one won stage, its
    orders), and a target month once per pipeline."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    config = tmp_path / "config"
    config.mkdir()
    for name in ("pipeline_stages", "stage_benchmarks", "revenue_targets"):
        shutil.copy(REPO / f"seeds/config/{name}.csv", config / f"{name}.csv")
    (config / "exchange_rates.csv").write_text(
        "currency,rate_to_reporting,valid_from\n"
        "EUR,1.1,2025-01-01\n"
        "eur,1.2,2025-01-01\n"
        "euro,1.1,2025-01-01\n"
        "USD,1,2025-01-01\n"
        "GBP,0,2025-01-01\n"
        "CHF,1.05,01/02/2025\n"
    )
    (config / "pipeline_stages.csv").write_text(
        "pipeline_id,pipeline_name,stage_key,stage_name,stage_order,stage_type,default_expected_days\n"
        "p1,Inbound,a,A,1,open,\n"
        "p1,Inbound deals,b,B,2,won,\n"
        "p2,,c,C,1,open,\n"
        "p2,,d,D,1,open,\n"
        "p2,,e,E,,lost,\n"
        "p3,Renewals,f,F,1,open,\n"
        "p3,Renewals,g,G,1,won,\n"
    )
    (config / "revenue_targets.csv").write_text(
        "pipeline_id,target_month,revenue_target_usd,avg_deal_size_usd\n"
        "p1,2026-01-01,100,\n"
        "p2,2026-01-01,100,\n"
        "p2,2026-01-01,200,\n"
    )
    result = project.dbt(
        "build",
        "--select",
        "+stg_config__exchange_rates +stg_config__pipeline_stages +stg_config__revenue_targets",
        check=False,
        extra_vars={"config_path": str(config)},
    )
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    for message in [
        f"Configuration error in {config}/exchange_rates.csv:",
        "- row currency='CHF': valid_from '01/02/2025' is not a date written YYYY-MM-DD",
        "- row currency='EUR': valid_from 2025-01-01 appears on 2 rows;"
        " a currency has one rate from each date",
        "- row currency='GBP': rate_to_reporting '0' is not a number above 0",
        "- row currency='USD': this is the reporting currency (var reporting_currency):"
        " its amounts need no rate",
        "- row currency='euro': currency is not a three-letter ISO 4217 code such as EUR",
        f"Configuration error in {config}/pipeline_stages.csv:",
        "- rows stage_key='c', 'd': they share stage_order 1; orders must be unique",
        "- pipeline 'p1': 2 pipeline_name values: a pipeline has one name,"
        " on every row (or on none)",
        "- pipeline 'p2': no row has stage_type won: add the one won stage, after every open stage",
        "- pipeline 'p3': the won stage (stage_order 1) must come after every open stage"
        " (the last is 1)",
        f"Configuration error in {config}/revenue_targets.csv:",
        "- row target_month='2026-01-01': the month appears on 2 rows; months must be unique"
        " per pipeline (pipeline 'p2')",
    ]:
        assert message in output, message
    # p3's orders 1 and 1 are also shared; p1 and p3 may reuse p2's orders.
    assert "rows stage_key='f', 'g'" in output
    assert "stage_key='a', 'c'" not in output
    assert not project.relation_exists("intermediate", "int_exchange_rates")


def test_the_won_stage_must_come_after_every_open_stage(tmp_path: Path):
    project = bad_exports(tmp_path)
    (project.root / "seeds/config/pipeline_stages.csv").write_text(
        CONFIG_HEADERS["pipeline_stages"]
        + "qualification,Qualification,1,open,\nproposal,Proposal,4,open,\nwon,Won,3,won,\n"
    )
    (project.root / "seeds/config/stage_benchmarks.csv").write_text(
        CONFIG_HEADERS["stage_benchmarks"]
    )
    result = project.dbt("build", "--select", "+stg_config__pipeline_stages", check=False)
    assert result.returncode != 0
    assert (
        "the won stage (stage_order 3) must come after every open stage (the last is 4)"
        in result.stdout
    )
