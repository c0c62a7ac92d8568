"""The semantic layer: `dbt parse` validates the semantic models and metrics,
and MetricFlow (`mf query`, dbt-metricflow on DuckDB) computes the metrics
to the marts' own numbers on the demo warehouse, opened read-only as `make
metrics` opens it (sales_pipeline.semantic_layer), also while another
process holds the file open."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_project_harness import REPO, DbtProject

from sales_pipeline.semantic_layer import catalog_of, manifest_problem

# Every metric a BI tool is promised (README, models/semantic/_semantic_layer.yml).
GOVERNED_METRICS = {
    "stage_conversion_rate",
    "old_leads",
    "leads_entered",
    "avg_days_to_advance",
    "leads_needed",
    "leads_advanced_to",
    "leads_in_stage",
    "win_rate",
    "avg_won_deal_usd",
    "pipeline_usd",
    "weighted_pipeline_usd",
    "pipeline_coverage",
    "weighted_pipeline_coverage",
}


def mf_query(project: DbtProject, tmp_path: Path, metrics: list[str], group_by: list[str]):
    """Rows of `mf query` as dicts of text, read from its CSV output: mf
    run as `make metrics` runs it, on the warehouse opened read-only."""
    out = tmp_path / f"{'_'.join(metrics)[:60]}.csv"
    command = [
        sys.executable,
        "-m",
        "sales_pipeline.semantic_layer",
        "--project-dir",
        str(project.root),
        "--warehouse",
        str(project.database),
        "query",
        "--metrics",
        ",".join(metrics),
        "--csv",
        str(out),
    ]
    if group_by:
        command += ["--group-by", ",".join(group_by)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, cwd=project.root, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and out.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-9)


def test_parse_validates_every_governed_metric(demo: DbtProject):
    manifest = json.loads((demo.root / "target/semantic_manifest.json").read_text())
    metrics = {metric["name"] for metric in manifest["metrics"]}
    assert metrics >= GOVERNED_METRICS
    spines = manifest["project_configuration"]["time_spines"]
    assert [spine["primary_column"]["name"] for spine in spines] == ["date_day"]
    assert demo.query("select count(*) as n from semantic.metricflow_time_spine")[0]["n"] == 20000


def test_a_broken_metric_fails_parse(tmp_path: Path):
    """dbt parse is the semantic layer's validation: a ratio over a metric
    that does not exist stops it with the metric's name."""
    project = DbtProject.copy_of_repo(tmp_path / "project")
    layer = project.root / "models/semantic/_semantic_layer.yml"
    layer.write_text(
        layer.read_text().replace("numerator: leads_advanced", "numerator: leads_that_do_not_exist")
    )
    result = project.dbt("parse", check=False)
    assert result.returncode != 0
    assert "leads_that_do_not_exist" in result.stdout


def test_stage_metrics_equal_the_marts(demo: DbtProject, tmp_path: Path):
    rows = mf_query(
        demo,
        tmp_path,
        ["stage_conversion_rate", "old_leads", "leads_entered", "avg_days_to_advance"],
        ["stage"],
    )
    marts = demo.query("select * from marts.fct_stage_conversion")
    assert_stage_metrics_equal(rows, marts)
    by_stage = {row["stage"]: row for row in rows}
    for stage in marts:
        metric = by_stage[stage["stage_key"]]
        assert close(number(metric["avg_days_to_advance"]), stage["avg_days_to_advance"]), stage


def assert_stage_metrics_equal(rows: list[dict], marts: list[dict]) -> None:
    """mf's conversion rate, old leads and leads entered per stage equal
    fct_stage_conversion's."""
    by_stage = {row["stage"]: row for row in rows}
    assert marts, "the demo has open stages"
    for stage in marts:
        metric = by_stage[stage["stage_key"]]
        assert close(number(metric["stage_conversion_rate"]), stage["conversion_rate"]), stage
        assert int(metric["old_leads"]) == stage["leads_old"]
        assert int(metric["leads_entered"]) == stage["leads_entered"]


def test_plan_metrics_equal_the_mart_per_month_and_stage(demo: DbtProject, tmp_path: Path):
    rows = mf_query(
        demo, tmp_path, ["leads_needed", "leads_in_stage"], ["metric_time__month", "stage"]
    )
    got = {
        (row["metric_time__month"][:10], row["stage"]): (
            int(row["leads_needed"]),
            int(row["leads_in_stage"]),
        )
        for row in rows
    }
    plan = demo.query("select * from marts.fct_pipeline_plan")
    expected = {
        (row["target_month"].isoformat(), row["stage_key"]): (
            row["leads_needed"],
            row["leads_in_stage"],
        )
        for row in plan
    }
    assert expected and got == expected


def test_stage_flow_metric_equals_the_mart(demo: DbtProject, tmp_path: Path):
    rows = mf_query(demo, tmp_path, ["leads_advanced_to"], ["stage", "stage_flow__to_stage_key"])
    got = {
        (row["stage"], row["stage_flow__to_stage_key"]): int(row["leads_advanced_to"])
        for row in rows
    }
    flows = demo.query("select * from marts.fct_stage_flow")
    expected = {(r["stage_key"], r["to_stage_key"]): r["leads_advanced_to"] for r in flows}
    # The demo's deals skip stages: some step up past the next stage.
    next_stage = {
        r["stage_key"]: r["next_stage_key"]
        for r in demo.query("select stage_key, next_stage_key from marts.fct_stage_conversion")
    }
    assert any(to_stage != next_stage[stage] for stage, to_stage in expected)
    assert expected and got == expected


def test_win_and_pipeline_metrics_equal_the_marts(demo: DbtProject, tmp_path: Path):
    [metric] = mf_query(
        demo,
        tmp_path,
        [
            "win_rate",
            "avg_won_deal_usd",
            "pipeline_usd",
            "weighted_pipeline_usd",
            "pipeline_coverage",
            "weighted_pipeline_coverage",
        ],
        [],
    )
    [win] = demo.query("select * from marts.fct_win_rates where dimension = 'overall'")
    [total] = demo.query("select * from marts.fct_pipeline_value where stage_key is null")
    assert close(number(metric["win_rate"]), win["win_rate"])
    assert close(number(metric["avg_won_deal_usd"]), win["avg_won_deal_usd"])
    assert close(number(metric["pipeline_usd"]), total["pipeline_usd"])
    assert close(number(metric["weighted_pipeline_usd"]), total["weighted_pipeline_usd"])
    assert close(number(metric["pipeline_coverage"]), total["coverage_ratio"])
    assert close(number(metric["weighted_pipeline_coverage"]), total["weighted_coverage_ratio"])


def test_days_to_advance_cut_by_segment_equals_the_visits(demo: DbtProject, tmp_path: Path):
    """A cut no mart precomputes: the same definition, per stage and segment."""
    dimension = "segment"
    rows = mf_query(
        demo, tmp_path, ["avg_days_to_advance"], ["stage", f"lead_stage_visit__{dimension}"]
    )
    got = {
        (row["stage"], row[f"lead_stage_visit__{dimension}"] or None): number(
            row["avg_days_to_advance"]
        )
        for row in rows
        if row["avg_days_to_advance"] != ""
    }
    expected = {
        (row["stage_key"], row[dimension]): row["mean_days"]
        for row in demo.query(
            f"select stage_key, {dimension}, avg(dwell_days) as mean_days "
            "from marts.fct_lead_stage_visits where exit_type = 'advanced' group by all"
        )
    }
    assert expected and got.keys() == expected.keys()
    assert all(close(got[key], expected[key]) for key in expected)


def test_metrics_group_by_pipeline(two_pipelines: DbtProject, tmp_path: Path):
    """Each semantic model has the entity pipeline: grouped by it, metrics of
    different marts give each pipeline's own numbers."""
    rows = mf_query(
        two_pipelines,
        tmp_path,
        ["win_rate", "pipeline_usd", "weighted_pipeline_coverage", "old_leads"],
        ["pipeline"],
    )
    by_pipeline = {row["pipeline"]: row for row in rows}
    assert sorted(by_pipeline) == ["inbound", "partner"]
    wins = {
        row["pipeline_id"]: row
        for row in two_pipelines.query(
            "select * from marts.fct_win_rates where dimension = 'overall'"
        )
    }
    totals = {
        row["pipeline_id"]: row
        for row in two_pipelines.query(
            "select * from marts.fct_pipeline_value where stage_key is null"
        )
    }
    olds = {
        row["pipeline_id"]: row
        for row in two_pipelines.query(
            "select pipeline_id, sum(leads_old) as n from marts.fct_stage_conversion group by all"
        )
    }
    for pipeline, metric in by_pipeline.items():
        win, total, old = wins[pipeline], totals[pipeline], olds[pipeline]
        assert close(number(metric["win_rate"]), win["win_rate"])
        assert close(number(metric["pipeline_usd"]), total["pipeline_usd"])
        assert close(number(metric["weighted_pipeline_coverage"]), total["weighted_coverage_ratio"])
        assert int(metric["old_leads"]) == old["n"]


# A BI tool holding the warehouse open: a process that opens it read-only,
# reads a mart, says so, and keeps it open until its stdin closes.
READER = """
import sys
import duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
connection.execute("select count(*) from marts.fct_stage_conversion").fetchall()
print("open", flush=True)
sys.stdin.read()
"""


def test_mf_query_beside_a_reader_holding_the_warehouse(demo: DbtProject, tmp_path: Path):
    """While a BI tool holds the warehouse open, DuckDB shuts out any
    process that would write it (dbt's target opens it so, and mf did);
    mf opens it read-only too, and answers with the marts' numbers."""
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(demo.database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open", reader.stderr.read()
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(demo.database)).close()
        rows = mf_query(
            demo, tmp_path, ["stage_conversion_rate", "old_leads", "leads_entered"], ["stage"]
        )
        marts = demo.query(
            "select stage_key, conversion_rate, leads_old, leads_entered "
            "from marts.fct_stage_conversion"
        )
        assert reader.poll() is None, "the reader held the warehouse throughout"
    finally:
        reader.stdin.close()
        reader.wait(timeout=60)
    assert_stage_metrics_equal(rows, marts)


def test_mf_reads_a_manifest_written_for_the_warehouse_it_queries(demo: DbtProject):
    """dbt names the semantic models' tables with the catalog of the file it
    ran on (DuckDB's name for it): a manifest written for another file
    (make test's) is parsed again before mf runs; one for the file is used
    as it is."""
    assert catalog_of(Path("warehouse/pipeline.duckdb")) == "pipeline"
    assert catalog_of(Path("warehouse/.pipeline.duckdb.building")) == "pipeline"
    assert manifest_problem(demo.root, demo.database) is None
    problem = manifest_problem(demo.root, demo.root / "test_warehouse.duckdb")
    assert problem and f"catalog {catalog_of(demo.database)};" in problem
    assert "test_warehouse.duckdb is test_warehouse" in problem
