"""The committed project as a team receives it: the demo seeds build, hold
every edge case the spec names, every model and column is documented, and
bad vars stop the build with a message that names them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt_project_harness import PUBLISHED_MARTS, REPO, DbtProject

from sales_pipeline import scale_data
from sales_pipeline.demo_data import generate, read_stages, write_csvs


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
            "select count(*) from intermediate.int_lead_transitions_checked"
            " where source_row_count > 1",
        )
        > 0
    )
    resaves = """
        select (
            select count(*) from intermediate.int_lead_transitions_checked
            where rejection_reason is null
        ) - (select count(*) from marts.fct_lead_stage_visits)
    """
    assert one(demo, resaves) > 0, "same-stage re-saves make fewer visits than events"
    ties = """
        select count(*) from (
            select lead_id, entered_at from intermediate.int_lead_transitions_checked
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


def test_building_twice_gives_identical_marts(demo: DbtProject):
    """To the last bit: durations are summed as integers, so no average
    depends on the order the engine adds rows in."""

    def snapshot() -> dict[str, list[tuple]]:
        return {
            mart: sorted(
                (tuple(row.values()) for row in demo.query(f"select * from marts.{mart}")), key=repr
            )
            for mart in PUBLISHED_MARTS
        }

    first = snapshot()
    demo.dbt("build", "--exclude", "resource_type:test", "resource_type:unit_test")
    assert snapshot() == first


def test_every_raw_row_is_accounted_for(demo: DbtProject):
    for raw, staged, checked in [
        ("raw_leads", "stg_crm__leads", "int_leads_checked"),
        ("raw_lead_transitions", "stg_crm__lead_transitions", "int_lead_transitions_checked"),
    ]:
        raw_rows = one(demo, f"select count(*) from raw.{raw}")
        assert one(demo, f"select count(*) from staging.{staged}") == raw_rows, staged
        checked_rows = one(demo, f"select sum(source_row_count) from intermediate.{checked}")
        assert checked_rows == raw_rows, checked


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


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_scale_generator_is_deterministic(tmp_path: Path, file_format: str):
    """Same arguments, same bytes, whatever the thread count; another seed,
    other data. (Its output passing the data tests is shown by the builds
    of test_incremental_refresh.py and the benchmark test.)"""

    def files(folder: str, seed: int, threads: int) -> dict[str, bytes]:
        out = tmp_path / folder
        scale_data.generate(
            out,
            leads=2000,
            seed=seed,
            stages=REPO / "seeds/config/pipeline_stages.csv",
            file_format=file_format,
            increments=2,
            increment_share=0.01,
            threads=threads,
        )
        return {path.name: path.read_bytes() for path in sorted(out.iterdir())}

    first = files("a", seed=7, threads=1)
    assert len(first) == 6, "base and two increments of both exports"
    assert files("b", seed=7, threads=2) == first
    other = files("c", seed=8, threads=2)
    assert other.keys() == first.keys() and other != first


@pytest.mark.parametrize(
    ("bad_vars", "message"),
    [
        ({"as_of_date": "2025-02-30"}, "var as_of_date must be a valid date written YYYY-MM-DD"),
        ({"as_of_date": "30/06/2025"}, "var as_of_date must be a valid date written YYYY-MM-DD"),
        ({"expected_days_factor": 0}, "var expected_days_factor must be greater than 0"),
        ({"expected_days_factor": "two"}, "var expected_days_factor must be a number"),
        ({"likely_dead_multiple": 0}, "var likely_dead_multiple must be greater than 0"),
        ({"likely_dead_multiple": "3x"}, "var likely_dead_multiple must be a number"),
        ({"expected_days_basis": "median"}, "var expected_days_basis must be average or km_median"),
        ({"business_time_zone": "EST5"}, "var business_time_zone must be an IANA time zone name"),
        (
            {"conversion_change_days": 0},
            "var conversion_change_days must be a whole number of days",
        ),
        (
            {"diagnosis_bandwidth_threshold": 1.5},
            "var diagnosis_bandwidth_threshold must be between 0 and 1",
        ),
        # raw_format is the loader's (sales_pipeline.load), which runs first.
        (
            {"raw_path": "/nowhere", "raw_format": "xlsx"},
            "argument --raw-format: invalid choice: 'xlsx' (choose from 'csv', 'parquet')",
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
