"""The Dagster code location: definitions, in-process materialization with
every asset check and the history, the schedule and the sensor."""

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    materialize,
)
from dbt_project_harness import DBT, REPO, write_csv

# The refresh's history starts here (its as-of date: the demo's latest, 2026-08-31).
HISTORY_START = "2026-06-28"


@pytest.fixture(scope="module")
def manifest() -> dict:
    """The dbt manifest the code location reads, made fresh from the code."""
    import subprocess

    subprocess.run(
        [str(DBT), "parse", "--quiet", "--project-dir", str(REPO), "--profiles-dir", str(REPO)],
        check=True,
        cwd=REPO,
    )
    return json.loads((REPO / "target/manifest.json").read_text())


@pytest.fixture(scope="module")
def defs(manifest):
    from orchestration.definitions import defs

    return defs


def test_dbt_arguments_carry_the_date_and_the_team_folder():
    from sales_pipeline.build_inputs import BuildInputs
    from sales_pipeline.dbt_args import dbt_vars, refresh_args

    assert dbt_vars(None) == {}
    team = BuildInputs(raw_path="/data", raw_format="parquet", config_path="/config")
    assert dbt_vars("2026-11-28", team.dbt_vars()) == {
        "as_of_date": "2026-11-28",
        "raw_path": "/data",
        "raw_format": "parquet",
        "config_path": "/config",
    }
    assert BuildInputs(raw_format="parquet").dbt_vars() == {}, "no raw_format without raw_path"
    assert refresh_args("2026-11-28") == ["build", "--vars", '{"as_of_date": "2026-11-28"}']
    assert json.loads(refresh_args(None, {"raw_path": "/data"}, "2026-06-28")[-1]) == {
        "raw_path": "/data",
        "history_start": "2026-06-28",
    }


def test_every_dbt_model_and_seed_is_an_asset_with_its_tests_as_checks(defs, manifest):
    graph = defs.resolve_asset_graph()
    asset_names = {key.path[-1] for key in graph.get_all_asset_keys()}
    dbt_nodes = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }
    # The tables the loader lands (crm_exports) are sources: assets upstream.
    sources = {source["name"] for source in manifest["sources"].values()}
    assert (
        dbt_nodes | {"pipeline_dashboard"}
        <= asset_names
        <= dbt_nodes | sources | {"pipeline_dashboard"}
    )
    groups = {
        graph.get(key).group_name
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable
    }
    assert groups == {"raw", "config", "staging", "intermediate", "marts", "semantic", "reports"}
    # The loader's tables: assets of their own, upstream of the dbt assets.
    loaded = {key for key in graph.get_all_asset_keys() if key.path[0] in ("crm", "config_files")}
    assert {key.path[-1] for key in loaded} == sources
    assert {graph.get(key).group_name for key in loaded} == {"loading"}
    checks = {(key.asset_key.path[-1], key.name) for key in graph.asset_check_keys}
    # The tests of a CRM adapter's models are in the manifest, disabled with them.
    tests = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node["config"]["enabled"]
    ]
    attached_tests = {
        (manifest["nodes"][node["attached_node"]]["name"], node["name"])
        for node in tests
        if (node.get("attached_node") or "").startswith("model.")
    }
    singular_tests = {node["name"] for node in tests if not node.get("attached_node")}
    assert singular_tests <= {name for _, name in checks}
    assert attached_tests, "the project has data tests on its models"
    assert attached_tests <= checks


def test_daily_refresh_tick_carries_its_own_date(defs):
    schedule = defs.resolve_schedule_def("daily_refresh")
    tick = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
    with build_schedule_context(scheduled_execution_time=tick) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert len(requests) == 1
    config = requests[0].run_config["ops"]["pipeline_warehouse"]["config"]
    assert config == {"as_of_date": "2026-11-28"}


def test_sensor_requests_a_refresh_for_new_or_changed_files_only(tmp_path, defs):
    from orchestration.assets import PipelineInputs
    from orchestration.sensors import raw_exports_sensor

    (tmp_path / "raw_leads.csv").write_text("lead_id\nL1\n")
    (tmp_path / "notes.txt").write_text("not an export")
    inputs = PipelineInputs(raw_path=str(tmp_path))

    def evaluate(cursor):
        with build_sensor_context(cursor=cursor, resources={"pipeline_inputs": inputs}) as context:
            result = raw_exports_sensor(context)
            return result, context.cursor

    first, cursor = evaluate(None)
    assert isinstance(first, RunRequest)
    assert first.run_config["ops"]["pipeline_warehouse"]["config"]["as_of_date"]
    unchanged, same_cursor = evaluate(cursor)
    assert isinstance(unchanged, SkipReason) and same_cursor == cursor

    (tmp_path / "notes.txt").write_text("still not an export")
    assert isinstance(evaluate(cursor)[0], SkipReason), "other files do not count"

    (tmp_path / "RAW_LEAD_TRANSITIONS_2026_11.CSV.GZ").write_bytes(b"")
    new_file, cursor_after_new = evaluate(cursor)
    assert isinstance(new_file, RunRequest) and new_file.run_key != first.run_key

    with (tmp_path / "raw_leads.csv").open("a") as handle:
        handle.write("L2\n")
    changed, cursor_after_change = evaluate(cursor_after_new)
    assert isinstance(changed, RunRequest)

    (tmp_path / "raw_leads.csv").unlink()
    removed, _ = evaluate(cursor_after_change)
    assert isinstance(removed, RunRequest)


def test_the_business_time_zone_is_a_build_input_and_the_schedules_day(tmp_path, defs):
    """A named zone reaches dbt (UTC, the default, is not passed), a change
    of zone rebuilds from scratch (a history day means another day), the
    sensor's as-of date is today there, and PIPELINE_BUSINESS_TIME_ZONE sets
    the schedule's time zone."""
    import subprocess
    import sys
    from zoneinfo import ZoneInfo

    from orchestration.assets import PipelineInputs
    from orchestration.sensors import raw_exports_sensor
    from sales_pipeline.build_inputs import BuildInputs, rebuild_reason

    assert BuildInputs(business_time_zone="Asia/Tokyo").dbt_vars() == {
        "business_time_zone": "Asia/Tokyo"
    }
    assert BuildInputs(business_time_zone="UTC").dbt_vars() == {}
    reason = rebuild_reason(
        BuildInputs().record(), BuildInputs(business_time_zone="Asia/Tokyo").record()
    )
    assert reason == "business_time_zone changed (unset -> Asia/Tokyo)"

    (tmp_path / "raw_leads.csv").write_text("lead_id\nL1\n")
    inputs = PipelineInputs(raw_path=str(tmp_path), business_time_zone="Pacific/Kiritimati")
    with build_sensor_context(resources={"pipeline_inputs": inputs}) as context:
        before = datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
        request = raw_exports_sensor(context)
        after = datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    assert request.run_config["ops"]["pipeline_warehouse"]["config"]["as_of_date"] in (
        before,
        after,
    )

    zones = subprocess.run(
        [
            sys.executable,
            "-c",
            "from orchestration.definitions import defs; "
            "print(defs.resolve_schedule_def('daily_refresh').execution_timezone)",
        ],
        env={**os.environ, "PIPELINE_BUSINESS_TIME_ZONE": "America/New_York"},
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert zones.stdout.split() == ["America/New_York"]


@pytest.fixture(scope="module")
def materialized(defs, tmp_path_factory):
    """Every asset materialized in-process into a DuckDB file, in one refresh
    whose history starts on HISTORY_START."""
    from dagster import RunConfig
    from dagster_dbt import DbtCliResource

    from orchestration.assets import (
        PipelineInputs,
        RefreshConfig,
        pipeline_dashboard,
        pipeline_warehouse,
    )
    from orchestration.project import DBT_EXECUTABLE

    database = tmp_path_factory.mktemp("dagster") / "warehouse.duckdb"
    previous = os.environ.get("PIPELINE_DUCKDB_PATH")
    os.environ["PIPELINE_DUCKDB_PATH"] = str(database)
    resources = {
        "dbt": DbtCliResource(project_dir=str(REPO), dbt_executable=DBT_EXECUTABLE),
        "pipeline_inputs": PipelineInputs(),
    }
    instance = DagsterInstance.ephemeral()
    folders = dbt_call_folders()
    result = materialize(
        [pipeline_warehouse, pipeline_dashboard],
        resources=resources,
        instance=instance,
        run_config=RunConfig(
            ops={pipeline_warehouse.op.name: RefreshConfig(history_start=HISTORY_START)}
        ),
    )
    # Each dbt call's target folder is gone once the call succeeded.
    assert dbt_call_folders() == folders
    yield result, database, resources, instance
    if previous is None:
        os.environ.pop("PIPELINE_DUCKDB_PATH", None)
    else:
        os.environ["PIPELINE_DUCKDB_PATH"] = previous


def test_all_assets_materialize_and_every_check_passes(materialized, defs):
    result, _, _, _ = materialized
    assert result.success
    graph = defs.resolve_asset_graph()
    materialized_keys = {m.asset_key for m in result.get_asset_materialization_events()}
    expected_keys = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert materialized_keys == expected_keys
    evaluations = result.get_asset_check_evaluations()
    expected_checks = {key for key in graph.asset_check_keys if key.asset_key in expected_keys}
    assert {evaluation.asset_check_key for evaluation in evaluations} == expected_checks
    assert all(evaluation.passed for evaluation in evaluations)


def test_the_dashboard_asset_renews_the_page_beside_the_published_warehouse(materialized, defs):
    """The refresh job ends with the dashboard: downstream of every mart it
    reads, written from the marts the same run published."""
    from dagster import AssetKey

    from sales_pipeline.dashboard import MARTS_READ, dashboard_path

    result, database, _, _ = materialized
    [event] = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key == AssetKey("pipeline_dashboard")
    ]
    page = dashboard_path(database)
    assert event.materialization.metadata["path"].value == str(page)
    as_of = query(database, "select max(as_of_date) as d from marts.fct_stage_conversion")[0]["d"]
    assert f"Sales pipeline as of {as_of.isoformat()}" in page.read_text()
    graph = defs.resolve_asset_graph()
    upstream = {key.path[-1] for key in graph.get(AssetKey("pipeline_dashboard")).parent_keys}
    assert upstream == set(MARTS_READ)
    job = defs.resolve_job_def("refresh_warehouse")
    assert AssetKey("pipeline_dashboard") in job.asset_layer.executable_asset_keys


def test_the_refresh_computes_its_history_each_day_equal_to_the_reference(materialized):
    """The refresh's history runs from its history_start to its as-of date,
    computed in the same run (no job per day); its first, a middle and its
    last day equal the independent reference as of that day (every day of
    60: test_marts_match_reference)."""
    _, database, _, _ = materialized
    history = query(
        database, "select * from marts.fct_stage_conversion_daily order by as_of_date, stage_key"
    )
    first, last = date.fromisoformat(HISTORY_START), date(2026, 8, 31)
    assert sorted({row["as_of_date"] for row in history}) == [
        first + timedelta(days=offset) for offset in range((last - first).days + 1)
    ]

    from mart_checks import assert_rows_equal, demo_config
    from reference import read_csv_rows, stage_conversion_history

    config = demo_config()
    days = [first, date(2026, 7, 30), last]
    assert_rows_equal(
        [row for row in history if row["as_of_date"] in days],
        stage_conversion_history(
            read_csv_rows(str(REPO / "seeds/raw/raw_leads.csv")),
            read_csv_rows(str(REPO / "seeds/raw/raw_lead_transitions.csv")),
            config["pipeline_stages"],
            config["stage_benchmarks"],
            days,
        ),
        "the refresh's history",
    )


def dbt_call_folders() -> set[str]:
    """The folders under the repository's target/, where dagster-dbt gives
    each dbt call one of its own (this module's runs use the repository)."""
    target = REPO / "target"
    return {path.name for path in target.iterdir() if path.is_dir()} if target.exists() else set()


def query(database: Path, sql: str) -> list[dict]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_sensors_refresh_after_a_file_changed_equals_a_build_from_scratch(
    tmp_path, monkeypatch, defs
):
    """The team's files through the Dagster resources: a loaded export
    changed in place makes the sensor request a refresh, which rebuilds from
    scratch (the request says so), never the stale numbers (equality with a
    build from scratch is test_export_files' part)."""
    import datetime as dt

    from dagster_dbt import DbtCliResource

    from orchestration.assets import PipelineInputs, loaded_tables, pipeline_warehouse
    from orchestration.project import DBT_EXECUTABLE
    from orchestration.sensors import raw_exports_sensor
    from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS, generate, read_stages

    exports = tmp_path / "exports"
    leads, transitions = generate(
        150,
        seed=8,
        stages=read_stages(REPO / "seeds/config/pipeline_stages.csv"),
        start=dt.date(2025, 1, 1),
        months=6,
        edge_case_rate=2,
    )
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    half = len(transitions) // 2
    write_csv(exports / "raw_lead_transitions_1.csv", transitions[:half], TRANSITION_COLUMNS)
    write_csv(exports / "raw_lead_transitions_2.csv", transitions[half:], TRANSITION_COLUMNS)
    database = tmp_path / "published" / "warehouse.duckdb"
    monkeypatch.setenv("PIPELINE_DUCKDB_PATH", str(database))
    inputs = PipelineInputs(raw_path=str(exports))
    resources = {
        "dbt": DbtCliResource(project_dir=str(REPO), dbt_executable=DBT_EXECUTABLE),
        "pipeline_inputs": inputs,
    }

    def sensor_request(cursor):
        with build_sensor_context(cursor=cursor, resources={"pipeline_inputs": inputs}) as context:
            return raw_exports_sensor(context), context.cursor

    first, cursor = sensor_request(None)
    instance = DagsterInstance.ephemeral()
    assert materialize(
        [*loaded_tables, pipeline_warehouse],
        resources=resources,
        instance=instance,
        run_config=first.run_config,
    ).success
    # The load is reported on the loaded tables' own assets (group loading).
    assert landed(instance, "raw_lead_transitions") == (
        ["raw_lead_transitions_1.csv", "raw_lead_transitions_2.csv"],
        len(transitions),
    )
    assert landed(instance, "raw_leads") == (["raw_leads.csv"], len(leads))

    write_csv(exports / "raw_lead_transitions_1.csv", transitions[: half // 2], TRANSITION_COLUMNS)
    request, _ = sensor_request(cursor)
    assert isinstance(request, RunRequest)
    assert request.tags["pipeline/refresh"].startswith(
        "from scratch: export file raw_lead_transitions_1.csv changed"
    )
    result = materialize(
        [*loaded_tables, pipeline_warehouse],
        resources=resources,
        instance=instance,
        run_config=request.run_config,
    )
    assert result.success
    # From scratch: both files landed again, the changed one as it is now.
    assert landed(instance, "raw_lead_transitions") == (
        ["raw_lead_transitions_1.csv", "raw_lead_transitions_2.csv"],
        len(transitions) - half + half // 2,
    )

    # The refreshed marts count the files as they are now, not as read before.
    now_in_files = len(transitions) - half + half // 2
    accounted = query(
        database,
        "select sum(row_count) as n from marts.rpt_data_quality"
        " where table_name = 'raw_lead_transitions'",
    )
    assert accounted == [{"n": now_in_files}]
    files = query(database, "select file_name, row_count from marts.rpt_export_files")
    rows = {row["file_name"]: row["row_count"] for row in files}
    assert rows["raw_lead_transitions_1.csv"] == half // 2


def landed(instance, raw_table: str) -> tuple[list[str], int]:
    """The files and rows of the last load into crm_exports.<raw_table>, as
    its asset's latest materialization reports them."""
    from dagster import AssetKey

    event = instance.get_latest_materialization_event(AssetKey(["crm", raw_table]))
    metadata = event.asset_materialization.metadata
    return metadata["files"].value, metadata["rows"].value
