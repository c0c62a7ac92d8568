"""The committed project as a team receives it: the demo seeds build, hold
every edge case the spec names, every model and column is documented, and
bad vars stop the build with a message that names them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt_project_harness import REPO, DbtProject
from generate_demo_data import generate, read_stages, write_csvs


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    project = DbtProject.copy_of_repo(tmp_path_factory.mktemp("demo") / "project")
    project.dbt("build")
    return project


def one(project: DbtProject, sql: str) -> object:
    return next(iter(project.query(sql)[0].values()))


def test_demo_data_has_the_promised_shape(demo: DbtProject):
    leads = demo.query(
        """
        select
            count(*) as leads,
            count(distinct owner_id) as reps,
            count(distinct lead_source) as sources,
            count(distinct segment) as segments,
            date_diff('month', min(created_at), max(created_at)) as months
        from staging.stg_crm__leads
        """
    )[0]
    assert leads["leads"] >= 2000
    assert (leads["reps"], leads["sources"], leads["segments"]) == (12, 5, 3)
    assert leads["months"] >= 18


def test_demo_data_holds_every_edge_case_of_the_spec(demo: DbtProject):
    exit_types = {
        row["exit_type"]
        for row in demo.query("select distinct exit_type from marts.fct_lead_stage_visits")
    }
    assert exit_types == {"advanced", "regressed", "lost", "reopened", "open"}
    skips = """
        select count(*) from marts.fct_lead_stage_visits as v
        join marts.dim_stages as s on v.stage_key = s.stage_key
        join marts.dim_stages as n on v.next_stage_key = n.stage_key
        where v.exit_type = 'advanced' and n.stage_order > s.stage_order + 1
    """
    assert one(demo, skips) > 0
    assert (
        one(
            demo,
            "select count(*) from staging.stg_crm__lead_transitions where source_row_count > 1",
        )
        > 0
    )
    resaves = """
        select (select count(*) from staging.stg_crm__lead_transitions)
            - (select count(*) from marts.fct_lead_stage_visits)
    """
    assert one(demo, resaves) > 0, "same-stage re-saves make fewer visits than events"
    ties = """
        select count(*) from (
            select lead_id, entered_at from staging.stg_crm__lead_transitions
            group by lead_id, entered_at having count(distinct stage_key) > 1
        )
    """
    assert one(demo, ties) > 0
    raw_offsets = "select count(*) from raw.raw_lead_transitions where entered_at like '%+__:__'"
    assert one(demo, raw_offsets) > 0
    conversion = demo.query(
        "select sum(leads_old) as old, sum(leads_in_window) as window "
        "from marts.fct_stage_conversion"
    )[0]
    assert conversion["old"] > 0 and conversion["window"] > 0


def test_one_rep_has_a_visible_bandwidth_problem(demo: DbtProject):
    old_by_rep = demo.query(
        "select owner_id, count(*) as old_leads from marts.rpt_old_leads "
        "group by owner_id order by old_leads desc"
    )
    assert old_by_rep[0]["owner_id"] == "rep_07"
    assert old_by_rep[0]["old_leads"] >= 2 * old_by_rep[1]["old_leads"]


PUBLISHED_MARTS = [
    "dim_stages",
    "fct_lead_stage_visits",
    "fct_stage_conversion",
    "fct_pipeline_plan",
    "rpt_old_leads",
]


def test_building_twice_gives_identical_marts(demo: DbtProject):
    """To the last bit: durations are summed as integers, so no average
    depends on the order the engine adds rows in."""

    def snapshot() -> dict[str, list[tuple]]:
        return {
            mart: sorted(tuple(row.values()) for row in demo.query(f"select * from marts.{mart}"))
            for mart in PUBLISHED_MARTS
        }

    first = snapshot()
    demo.dbt("build", "--exclude", "resource_type:test", "resource_type:unit_test")
    assert snapshot() == first


def test_every_raw_row_is_accounted_for(demo: DbtProject):
    for raw, staged in [
        ("raw_leads", "stg_crm__leads"),
        ("raw_lead_transitions", "stg_crm__lead_transitions"),
    ]:
        raw_rows = one(demo, f"select count(*) from raw.{raw}")
        staged_rows = one(demo, f"select sum(source_row_count) from staging.{staged}")
        assert raw_rows == staged_rows, raw


def test_every_model_and_column_is_documented(demo: DbtProject):
    manifest = json.loads((demo.root / "target/manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    assert len(models) >= 10
    undocumented = []
    for model in models:
        if not model["description"].strip():
            undocumented.append(model["name"])
        built = demo.query(
            f"select column_name from information_schema.columns "
            f"where table_schema = '{model['schema']}' and table_name = '{model['name']}'"
        )
        assert built, f"{model['name']} was not built"
        for column in built:
            documented = model["columns"].get(column["column_name"], {}).get("description", "")
            if not documented.strip():
                undocumented.append(f"{model['name']}.{column['column_name']}")
    assert not undocumented


def test_generator_is_deterministic(tmp_path: Path):
    stages = read_stages(REPO / "seeds/config/pipeline_stages.csv")
    write_csvs(tmp_path / "a", *generate(2000, seed=42, stages=stages))
    write_csvs(tmp_path / "b", *generate(2000, seed=42, stages=stages))
    for name in ("raw_leads.csv", "raw_lead_transitions.csv"):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes()
        assert first == (REPO / "seeds/raw" / name).read_bytes(), (
            "the committed demo seeds are the generator's"
        )
    assert (tmp_path / "a/raw_leads.csv").read_bytes() != write_other_seed(tmp_path, stages)


def write_other_seed(tmp_path: Path, stages: list[dict[str, str]]) -> bytes:
    write_csvs(tmp_path / "c", *generate(2000, seed=43, stages=stages))
    return (tmp_path / "c/raw_leads.csv").read_bytes()


@pytest.mark.parametrize(
    ("bad_vars", "message"),
    [
        ({"as_of_date": "2025-02-30"}, "var as_of_date must be a valid date written YYYY-MM-DD"),
        ({"as_of_date": "30/06/2025"}, "var as_of_date must be a valid date written YYYY-MM-DD"),
        ({"expected_days_factor": 0}, "var expected_days_factor must be greater than 0"),
        ({"expected_days_factor": "two"}, "var expected_days_factor must be a number"),
        (
            {"diagnosis_bandwidth_threshold": 1.5},
            "var diagnosis_bandwidth_threshold must be between 0 and 1",
        ),
        (
            {"raw_path": "/nowhere", "raw_format": "xlsx"},
            "var raw_format must be 'csv' or 'parquet'",
        ),
    ],
)
def test_bad_vars_stop_the_build_with_a_clear_message(tmp_path: Path, bad_vars: dict, message: str):
    project = DbtProject.copy_of_repo(tmp_path / "project")
    result = project.dbt("build", extra_vars=bad_vars, check=False)
    assert result.returncode != 0
    assert message in result.stdout
    assert not project.database.exists() or not project.query(
        "select * from information_schema.tables where table_schema = 'marts'"
    ), "nothing may be built"


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
)


def bad_exports(tmp_path: Path) -> DbtProject:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "raw_leads.csv").write_text(BAD_LEADS)
    (exports / "raw_lead_transitions.csv").write_text(BAD_TRANSITIONS)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports), "as_of_date": "2025-01-03"}
    return project


def test_bad_rows_are_quarantined_with_a_reason_and_accounted_for(tmp_path: Path):
    project = bad_exports(tmp_path)
    project.dbt("build", extra_vars={"max_rejected_share": 1})
    rejected_leads = project.query(
        "select lead_id, owner_id, rejection_reason, source_row_count "
        "from marts.rejected_leads order by rejection_reason, owner_id"
    )
    assert rejected_leads == [
        {
            "lead_id": "L2",
            "owner_id": "rep_01",
            "rejection_reason": "conflicting_lead_rows",
            "source_row_count": 1,
        },
        {
            "lead_id": "L2",
            "owner_id": "rep_02",
            "rejection_reason": "conflicting_lead_rows",
            "source_row_count": 1,
        },
        {
            "lead_id": None,
            "owner_id": "rep_01",
            "rejection_reason": "missing_lead_id",
            "source_row_count": 1,
        },
        {
            "lead_id": "L4",
            "owner_id": "rep_01",
            "rejection_reason": "negative_deal_amount",
            "source_row_count": 1,
        },
        {
            "lead_id": "L5",
            "owner_id": "rep_01",
            "rejection_reason": "unparseable_created_at",
            "source_row_count": 1,
        },
        {
            "lead_id": "L3",
            "owner_id": "rep_01",
            "rejection_reason": "unparseable_deal_amount",
            "source_row_count": 1,
        },
    ]
    rejected_transitions = project.query(
        "select lead_id, stage_key, unparsed_entered_at, rejection_reason "
        "from marts.rejected_lead_transitions order by rejection_reason, lead_id"
    )
    assert rejected_transitions == [
        {
            "lead_id": "L1",
            "stage_key": "qualification",
            "unparsed_entered_at": None,
            "rejection_reason": "before_lead_created",
        },
        {
            "lead_id": "L2",
            "stage_key": "qualification",
            "unparsed_entered_at": None,
            "rejection_reason": "lead_rejected",
        },
        {
            "lead_id": "L5",
            "stage_key": "qualification",
            "unparsed_entered_at": None,
            "rejection_reason": "lead_rejected",
        },
        {
            "lead_id": None,
            "stage_key": "qualification",
            "unparsed_entered_at": None,
            "rejection_reason": "missing_lead_id",
        },
        {
            "lead_id": "X9",
            "stage_key": "qualification",
            "unparsed_entered_at": None,
            "rejection_reason": "unknown_lead_id",
        },
        {
            "lead_id": "L1",
            "stage_key": "demo_call",
            "unparsed_entered_at": None,
            "rejection_reason": "unknown_stage_key",
        },
        {
            "lead_id": "L1",
            "stage_key": "meeting",
            "unparsed_entered_at": "03/01/2025",
            "rejection_reason": "unparseable_entered_at",
        },
    ]
    quality = {
        (row["table_name"], row["outcome"], row["reason"]): row["row_count"]
        for row in project.query("select * from marts.rpt_data_quality")
    }
    assert quality == {
        ("raw_leads", "accepted", None): 1,
        ("raw_leads", "duplicate", None): 1,
        ("raw_leads", "rejected", "conflicting_lead_rows"): 2,
        ("raw_leads", "rejected", "missing_lead_id"): 1,
        ("raw_leads", "rejected", "unparseable_deal_amount"): 1,
        ("raw_leads", "rejected", "negative_deal_amount"): 1,
        ("raw_leads", "rejected", "unparseable_created_at"): 1,
        # Valid, but after the as-of date (2025-01-03): not in these metrics.
        ("raw_lead_transitions", "accepted", "after_as_of_date"): 1,
        ("raw_lead_transitions", "accepted", None): 2,
        ("raw_lead_transitions", "duplicate", None): 1,
        ("raw_lead_transitions", "rejected", "missing_lead_id"): 1,
        ("raw_lead_transitions", "rejected", "unparseable_entered_at"): 1,
        ("raw_lead_transitions", "rejected", "unknown_stage_key"): 1,
        ("raw_lead_transitions", "rejected", "unknown_lead_id"): 1,
        ("raw_lead_transitions", "rejected", "lead_rejected"): 2,
        ("raw_lead_transitions", "rejected", "before_lead_created"): 1,
    }
    assert sum(v for (table, _, _), v in quality.items() if table == "raw_leads") == 8
    assert sum(v for (table, _, _), v in quality.items() if table == "raw_lead_transitions") == 11
    visits = project.query(
        "select lead_id, stage_key, owner_id from marts.fct_lead_stage_visits order by 1, 2"
    )
    assert visits == [
        {"lead_id": "L1", "stage_key": "discovery", "owner_id": "rep_01"},
        {"lead_id": "L1", "stage_key": "qualification", "owner_id": "rep_01"},
    ]


def test_too_many_rejected_rows_fail_the_build(tmp_path: Path):
    result = bad_exports(tmp_path).dbt("build", check=False)
    assert result.returncode != 0
    assert "FAIL 2 assert_rejected_share_within_limit" in result.stdout


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
        rows = one(project, f"select count(*) from marts.{mart}")
        assert rows == (6 if mart == "dim_stages" else 0), mart


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
    assert not project.query(
        "select * from information_schema.tables where table_schema = 'marts' "
        "and table_name = 'fct_stage_conversion'"
    )


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
