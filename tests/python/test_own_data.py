"""A team's first hour, as the README tells it: `make build` (the demo),
then the one-command build of the team's own exports and configuration,
then the demo again. Each publish holds exactly one set of inputs: its
marts equal the reference computed from those inputs alone. The published
file opens in DuckDB 1.x clients (each installed into a throwaway
environment of its own), and its Parquet marts equal its tables.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_project_harness import REPO, DbtProject, write_csv
from mart_checks import (
    OTHER_BENCHMARKS,
    OTHER_STAGES,
    OTHER_TARGETS,
    as_text,
    assert_marts_match,
    demo_config,
    other_stage_data,
    write_other_config,
)
from reference import compute_marts, read_csv_rows

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS

# The oldest and the newest DuckDB 1.x the README says open the file.
DUCKDB_CLIENTS = ["1.0.0", "1.5.2"]
READ_EVERY_MART = """
import json, sys
import duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
marts = [name for (name,) in connection.execute(
    "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
).fetchall()]
print(json.dumps({
    "version": duckdb.__version__,
    "marts": {name: sorted(json.dumps(row, default=str) for row in
                           connection.execute(f"select * from marts.{name}").fetchall())
              for name in marts},
}))
"""


def make_build(warehouse: Path, **make_vars: str) -> subprocess.CompletedProcess:
    arguments = [f"{name}={value}" for name, value in make_vars.items()]
    result = subprocess.run(
        ["make", "-C", str(REPO), "build", f"WAREHOUSE={warehouse}", *arguments],
        capture_output=True,
        text=True,
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PIPELINE_", "MAKE")) or k == "PIPELINE_EXPORT_SETTLE_SECONDS"
        },
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    return result


def as_project(warehouse: Path) -> DbtProject:
    """The published warehouse, read like a test build (read-only queries)."""
    project = DbtProject(warehouse.parent)
    assert project.database == warehouse
    return project


def demo_reference() -> dict[str, list[dict]]:
    return compute_marts(
        read_csv_rows(str(REPO / "seeds/raw/raw_leads.csv")),
        read_csv_rows(str(REPO / "seeds/raw/raw_lead_transitions.csv")),
        *demo_config().values(),
        as_of_date=None,
    )


@pytest.fixture(scope="module")
def first_hour(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("own_data")
    warehouse = root / "warehouse.duckdb"
    exports, config = root / "exports", root / "pipeline_config"
    leads, transitions = other_stage_data(250, seed=31)
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(exports / "raw_lead_transitions.csv", transitions, TRANSITION_COLUMNS)
    write_other_config(config)
    own_reference = compute_marts(
        as_text(leads),
        as_text(transitions),
        OTHER_STAGES,
        OTHER_BENCHMARKS,
        OTHER_TARGETS,
        as_of_date=None,
    )
    steps = {}
    steps["demo"] = make_build(warehouse)
    steps["demo_marts"] = snapshot(warehouse)
    steps["own"] = make_build(
        warehouse, RAW_PATH=str(exports), CONFIG_PATH=str(config), VARS="{max_rejected_share: 0.2}"
    )
    steps["own_marts"] = snapshot(warehouse)
    steps["own_history"] = history_dates(warehouse)
    own_copy = root / "own_data_published" / "warehouse.duckdb"
    own_copy.parent.mkdir()
    shutil.copyfile(warehouse, own_copy)
    steps["own_copy"] = own_copy
    steps["own_read_here"] = read_every_mart(sys.executable, warehouse)
    steps["own_clients"] = {
        version: read_with_client(version, warehouse, root) for version in DUCKDB_CLIENTS
    }
    steps["own_parquet"] = parquet_differences(warehouse)
    steps["demo_again"] = make_build(warehouse)
    steps["demo_again_marts"] = snapshot(warehouse)
    steps["demo_again_history"] = history_dates(warehouse)
    return warehouse, own_reference, steps


def snapshot(warehouse: Path) -> dict:
    """Two marts' columns and rows, in a fixed order."""
    project = as_project(warehouse)
    marts = {}
    for name in ("fct_stage_conversion", "dim_stages"):
        columns, rows = project.mart(name)
        marts[name] = (columns, sorted(rows, key=lambda row: row["stage_key"]))
    return marts


def a_year_to(as_of: dt.date) -> set[dt.date]:
    """The days of the history by default: the 365 that end on the as-of date."""
    return {as_of - dt.timedelta(days=back) for back in range(365)}


def history_dates(warehouse: Path) -> set[dt.date]:
    rows = as_project(warehouse).query(
        "select distinct as_of_date from marts.fct_stage_conversion_daily"
    )
    return {row["as_of_date"] for row in rows}


def read_with_client(version: str, warehouse: Path, root: Path) -> dict:
    """Every mart, read by a DuckDB client of that version in its own venv."""
    venv = root / f"duckdb-{version}"
    uv = Path(sys.executable).with_name("uv")
    subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin/python"),
            f"duckdb=={version}",
        ],
        check=True,
    )
    return read_every_mart(str(venv / "bin/python"), warehouse)


def read_every_mart(python: str, warehouse: Path) -> dict:
    result = subprocess.run(
        [python, "-c", READ_EVERY_MART, str(warehouse)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def parquet_differences(warehouse: Path) -> dict[str, int]:
    """Per mart, the rows in the table or its Parquet file but not both."""
    folder = warehouse.parent / "marts"
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        marts = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        assert sorted(path.stem for path in folder.iterdir()) == sorted(marts)
        differences = {}
        for name in marts:
            parquet = f"read_parquet('{folder / name}.parquet')"
            table = f"marts.{name}"
            differences[name] = connection.execute(
                f"select count(*) from ((select * from {table} except all select * from {parquet})"
                f" union all (select * from {parquet} except all select * from {table}))"
            ).fetchone()[0]
    return differences


def test_the_demo_builds_with_make_build(first_hour):
    _, _, steps = first_hour
    assert "Stage conversion as of 2026-08-31" in steps["demo"].stdout


def test_the_summary_prints_the_reference_headlines(first_hour):
    """make build's last lines: win rate, pipeline against the next target
    month and velocity, as the reference computes them for that data."""
    _, own_reference, steps = first_hour
    win = next(r for r in own_reference["fct_win_rates"] if r["dimension"] == "overall")
    total = next(r for r in own_reference["fct_pipeline_value"] if r["stage_key"] is None)
    printed = steps["own"].stdout
    assert (
        f"Win rate {win['win_rate']:.3f} ({win['leads_won']:,} won of "
        f"{win['leads_decided']:,} decided)" in printed
    )
    assert f"(weighted ${total['weighted_pipeline_usd']:,.0f})" in printed
    week = [r for r in own_reference["fct_pipeline_movement"] if r["window_days"] == 7]

    def leads(movement: str) -> int:
        return sum(r["leads"] for r in week if r["movement"] == movement)

    assert (
        f"Last 7 days ({week[0]['from_date']} to {week[0]['to_date']}): "
        f"{leads('in_stage_at_start'):,} open leads, +{leads('new'):,} new, "
        f"+{leads('reopened'):,} reopened, -{leads('won'):,} won" in printed
    )
    assert f"-{leads('lost'):,} lost = {leads('in_stage_at_end'):,} open;" in printed
    if total["target_month"] is not None:
        assert f"weighted {total['weighted_coverage_ratio']:.2f};" in printed
    assert f"Pipeline velocity ${total['pipeline_velocity_usd_per_day']:,.0f} a day" in printed


def test_the_summary_prints_a_block_per_pipeline(two_pipelines: DbtProject):
    """With several pipelines, make build's summary prints each one's stage
    table and headlines under its name, from that pipeline's rows alone."""
    printed = subprocess.run(
        [sys.executable, str(REPO / "scripts/print_summary.py"), str(two_pipelines.database)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    blocks = printed.split("\n== Pipeline ")[1:]
    assert [block.split(" ==")[0] for block in blocks] == [
        "Inbound (inbound)",
        "Partner deals (partner)",
    ]
    for block, pipeline in zip(blocks, ["inbound", "partner"], strict=True):
        [win] = two_pipelines.query(
            "select * from marts.fct_win_rates "
            f"where pipeline_id = '{pipeline}' and dimension = 'overall'"
        )
        [total] = two_pipelines.query(
            "select * from marts.fct_pipeline_value "
            f"where pipeline_id = '{pipeline}' and stage_key is null"
        )
        stages = two_pipelines.query(
            "select stage_key from marts.fct_stage_conversion "
            f"where pipeline_id = '{pipeline}' order by stage_order"
        )
        assert (
            f"Win rate {win['win_rate']:.3f} ({win['leads_won']:,} won of "
            f"{win['leads_decided']:,} decided)" in block
        )
        assert f"(weighted ${total['weighted_pipeline_usd']:,.0f})" in block
        assert (
            f"{total['target_month']:%B %Y}'s target ${total['revenue_target_usd']:,.0f}" in block
        )
        table = block.split("Stage conversion as of ")[1].split("\n\n")[0].splitlines()[2:]
        assert [line.split()[0] for line in table] == [row["stage_key"] for row in stages]
        [forecast] = two_pipelines.query(
            "select min(forecast_month) as month, sum(expected_won_deals) as deals, "
            "sum(expected_won_amount) as amount from marts.fct_revenue_forecast "
            f"where pipeline_id = '{pipeline}' and months_ahead = 1"
        )
        [model] = two_pipelines.query(
            "select mean_absolute_percentage_error as error from marts.rpt_forecast_accuracy "
            f"where pipeline_id = '{pipeline}' and forecast_method = 'model' and months_ahead = 1"
        )
        assert (
            f"Forecast for {forecast['month']:%B %Y}: {forecast['deals']:.1f} won deals, "
            f"${forecast['amount']:,.0f} (" in block
        )
        error = f"(mean absolute % error of the won amount): model {model['error'] * 100:.0f} %, "
        assert error in block


def test_own_exports_and_configuration_in_one_command_rebuild_from_scratch(first_hour):
    _, _, steps = first_hour
    assert "publish: rebuilding from scratch: raw_path changed (unset -> " in steps["own"].stderr
    stages = [row["stage_key"] for row in steps["own_marts"]["dim_stages"][1]]
    assert sorted(stages) == sorted(stage["stage_key"] for stage in OTHER_STAGES)


def test_own_data_marts_equal_the_reference_for_that_data_alone(first_hour):
    _, own_reference, steps = first_hour
    assert_marts_match(as_project(steps["own_copy"]), own_reference)
    [as_of] = {row["as_of_date"] for row in own_reference["fct_stage_conversion"]}
    assert steps["own_history"] == a_year_to(as_of), "the history is the own data's year alone"


def test_the_parquet_marts_equal_the_tables(first_hour):
    _, _, steps = first_hour
    differences = steps["own_parquet"]
    assert "fct_stage_conversion" in differences and "rpt_export_files" in differences
    assert set(differences.values()) == {0}, differences


def test_duckdb_1x_clients_read_every_mart(first_hour):
    _, _, steps = first_hour
    clients = steps["own_clients"]
    assert [clients[v]["version"] for v in DUCKDB_CLIENTS] == DUCKDB_CLIENTS
    here = steps["own_read_here"]["marts"]
    assert {"fct_stage_conversion", "fct_lead_stage_visits", "rpt_old_leads"} <= set(here)
    assert here["fct_lead_stage_visits"], "there are rows to read"
    for version in DUCKDB_CLIENTS:
        assert clients[version]["marts"] == here, f"DuckDB {version} reads other values"


def test_the_demo_again_holds_the_demo_alone(first_hour):
    warehouse, _, steps = first_hour
    assert "publish: rebuilding from scratch: raw_path changed (" in steps["demo_again"].stderr
    assert steps["demo_again_marts"] == steps["demo_marts"]
    assert steps["demo_again_history"] == a_year_to(dt.date(2026, 8, 31))
    assert_marts_match(as_project(warehouse), demo_reference())


def test_the_publishers_options_and_vars_make_one_dbt_build():
    """What `make build` passes becomes one dbt build: the inputs from the
    options or --vars (which must agree), other vars as written, a YAML date
    given back to dbt as the text it was."""
    from sales_pipeline.publish import build_command, main, parse_inputs

    def parsed(*argv: str):
        import argparse

        parser = argparse.ArgumentParser()
        for name in (
            "raw_path",
            "raw_format",
            "config_path",
            "input_timestamp_format",
            "input_encoding",
            "business_time_zone",
            "vars",
        ):
            parser.add_argument("--" + name.replace("_", "-"))
        return parse_inputs(parser.parse_args(argv), parser)

    inputs, other = parsed(
        "--raw-path", "/data", "--vars", "{raw_format: parquet, as_of_date: 2026-06-30}"
    )
    assert (inputs.raw_path, inputs.raw_format, other) == (
        "/data",
        "parquet",
        {"as_of_date": dt.date(2026, 6, 30)},
    )
    command = build_command(inputs, other, REPO, ["--fail-fast"])
    assert command[1:3] == ["build", "--project-dir"] and "--fail-fast" in command
    assert json.loads(command[-1]) == {
        "as_of_date": "2026-06-30",
        "raw_path": "/data",
        "raw_format": "parquet",
    }
    with pytest.raises(SystemExit):
        parsed("--raw-path", "/data", "--vars", "{raw_path: /elsewhere}")
    with pytest.raises(SystemExit):
        main(["--", "dbt", "build"])
