"""Refreshes under BI readers: a separate reader process queries the
published marts in a loop while three refreshes run, the last one made to
fail. Every read must succeed and see one complete, consistent build; after
the failed refresh readers still see the last good one."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from dbt_project_harness import REPO, DbtProject, write_csv

from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS, generate, read_stages

# One statement, so one snapshot: totals that must agree across the marts
# of one build.
CONSISTENCY_SQL = """
select
    (select min(as_of_date) from marts.fct_stage_conversion) as conversion_as_of,
    (select max(as_of_date) from marts.fct_stage_conversion) as conversion_as_of_max,
    (select min(as_of_date) from marts.rpt_old_leads) as old_leads_as_of,
    (select max(as_of_date) from marts.rpt_old_leads) as old_leads_as_of_max,
    (select sum(leads_old) from marts.fct_stage_conversion) as leads_old,
    (select count(*) from marts.rpt_old_leads) as old_lead_rows,
    (select count(*) from marts.fct_lead_stage_visits where is_old) as old_visits,
    (
        select sum(leads_in_stage) from marts.fct_pipeline_plan
        where target_month = (select min(target_month) from marts.fct_pipeline_plan)
    ) as leads_in_open_stages,
    (
        select count(*) from marts.fct_lead_stage_visits as visits
        inner join marts.dim_stages as stages on visits.stage_key = stages.stage_key
        where visits.exit_type = 'open' and stages.stage_type = 'open'
    ) as current_open_visits
"""

READER = """
import json, sys, time
from pathlib import Path
import duckdb

database, stop, log, sql = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
with log.open("w") as out:
    while not stop.exists():
        try:
            with duckdb.connect(database, read_only=True) as connection:
                cursor = connection.execute(sql)
                names = [column[0] for column in cursor.description]
                row = dict(zip(names, cursor.fetchone()))
            print(json.dumps({"at": time.time(), **row}, default=str), file=out, flush=True)
        except Exception as error:
            print(json.dumps({"at": time.time(), "error": repr(error)}), file=out, flush=True)
        time.sleep(0.02)
"""


def test_readers_never_see_a_half_built_or_failed_refresh(tmp_path: Path):
    exports = tmp_path / "exports"
    leads, transitions = generate(
        300,
        seed=5,
        stages=read_stages(REPO / "seeds/config/pipeline_stages.csv"),
        start=dt.date(2025, 1, 1),
        months=9,
        edge_case_rate=4,
        timestamp_granularity="minute",
    )
    # One row the quarantine takes: the failing refresh allows none.
    transitions.append({"lead_id": "L-X", "stage_key": "demo_call", "entered_at": "2025-02-01"})
    write_csv(exports / "raw_leads.csv", leads, LEAD_COLUMNS)
    write_csv(exports / "raw_lead_transitions.csv", transitions, TRANSITION_COLUMNS)
    project = DbtProject.copy_of_repo(tmp_path / "project")
    project.vars = {"raw_path": str(exports)}

    project.publish(extra_vars={"as_of_date": "2025-04-30"})
    # A BI session that stays connected through every refresh.
    long_reader = duckdb.connect(str(project.database), read_only=True)
    before = consistent_read(long_reader)
    assert before["conversion_as_of"] == "2025-04-30"

    stop, log = tmp_path / "stop-reading", tmp_path / "reads.jsonl"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(project.database), str(stop), str(log), CONSISTENCY_SQL],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_first_read(log, reader)
        marks = {}
        project.publish(extra_vars={"as_of_date": "2025-06-30"})
        project.publish(extra_vars={"as_of_date": "2025-08-31"})
        marks["last_good_published"] = time.time()
        failed = project.publish(
            extra_vars={"as_of_date": "2025-09-30", "max_rejected_share": 0}, check=False
        )
        marks["failed_refresh_done"] = time.time()
        time.sleep(1.5)
    finally:
        stop.touch()
        _, errors = reader.communicate(timeout=60)

    assert failed.returncode != 0
    assert "FAIL 1 assert_rejected_share_within_limit" in failed.stdout
    assert "is unchanged" in failed.stderr

    reads = [json.loads(line) for line in log.read_text().splitlines()]
    assert reader.returncode == 0, errors
    assert [read for read in reads if "error" in read] == []
    for read in reads:
        # One build per read: every mart says the same date, totals agree.
        assert read["conversion_as_of"] == read["conversion_as_of_max"], read
        assert read["old_leads_as_of"] == read["old_leads_as_of_max"] == read["conversion_as_of"]
        assert read["leads_old"] == read["old_lead_rows"] == read["old_visits"] > 0, read
        assert read["leads_in_open_stages"] == read["current_open_visits"], read
    seen = [read["conversion_as_of"] for read in reads]
    assert set(seen) <= {"2025-04-30", "2025-06-30", "2025-08-31"}
    assert seen == sorted(seen), "a reader went back to an older build"
    assert len(set(seen)) >= 2, "the reader must have read across a swap"
    after_failure = [r for r in reads if r["at"] > marks["failed_refresh_done"]]
    assert after_failure and {r["conversion_as_of"] for r in after_failure} == {"2025-08-31"}

    # The connected session kept its snapshot and did not block a refresh.
    assert consistent_read(long_reader) == before
    long_reader.close()
    assert (
        consistent_read(duckdb.connect(str(project.database), read_only=True))["conversion_as_of"]
        == "2025-08-31"
    )
    leftovers = sorted(p.name for p in project.root.iterdir() if "building" in p.name)
    assert leftovers == []


def consistent_read(connection: duckdb.DuckDBPyConnection) -> dict[str, object]:
    cursor = connection.execute(CONSISTENCY_SQL)
    names = [column[0] for column in cursor.description]
    row = dict(zip(names, cursor.fetchone(), strict=True))
    return {
        name: str(value) if isinstance(value, dt.date) else value for name, value in row.items()
    }


def wait_for_first_read(log: Path, reader: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not (log.exists() and log.read_text().strip()):
        assert reader.poll() is None, f"the reader stopped: {reader.stderr.read()}"
        assert time.time() < deadline, "the reader never read"
        time.sleep(0.1)
