"""Build times of the warehouse on PostgreSQL or Spark.

    python scripts/throwaway_postgres.py -- python benchmarks/engines.py --target postgres
    SPARK_LOCAL_IP=127.0.0.1 python benchmarks/engines.py --target spark

(make bench-engines runs both.) Two data sets: the demo seeds, loaded by
dbt seed; and about 100k transitions from the scale generator, loaded into
schema crm the way a loader would (PostgreSQL COPY; a Spark table written
by Spark) and read through the crm source (var crm_schema). Each build is
`dbt build` of the repository's project with every data test (the unit
tests once, on the demo), into a warehouse of its own in a temporary folder
(where dbt runs, and writes its target/ and logs/); the time is the wall
clock of the dbt process, which includes dbt's own start (about 4 s) and,
on Spark, starting the session.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The repository's root, for the sales_pipeline package, wherever this runs from.
sys.path.insert(0, str(REPO))
from sales_pipeline import scale_data  # noqa: E402
from sales_pipeline.demo_data import LEAD_COLUMNS, TRANSITION_COLUMNS  # noqa: E402
from sales_pipeline.engines import Warehouse, postgres_connection  # noqa: E402
from sales_pipeline.publish import DBT_EXECUTABLE  # noqa: E402

SPARK_LOADER = """
import sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").enableHiveSupport()
    .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
    .getOrCreate())
spark.sql("create database if not exists crm")
for name, path in [("raw_leads", sys.argv[1]), ("raw_lead_transitions", sys.argv[2])]:
    frame = spark.read.option("header", True).csv(path)  # every column a string
    frame.write.mode("overwrite").format("parquet").saveAsTable(f"crm.{name}")
"""


def new_warehouse(target: str, folder: Path) -> Warehouse:
    folder.mkdir(parents=True)
    warehouse = Warehouse(target, folder)
    warehouse.create()
    return warehouse


def timed_build(warehouse: Warehouse, unit_tests: bool, **extra_vars) -> float:
    """Seconds of one `dbt build` of the project into warehouse."""
    folder = warehouse.folder
    command = [DBT_EXECUTABLE, "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target-path", str(folder / "target"), "--log-path", str(folder / "logs")]
    if not unit_tests:
        command += ["--exclude-resource-type", "unit_test"]
    if extra_vars:
        command += ["--vars", json.dumps(extra_vars)]
    warehouse.release()  # dbt's Spark session needs the metastore
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **warehouse.env()}
    start = time.perf_counter()
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or "ERROR=0" not in result.stdout:
        raise RuntimeError(f"dbt build failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return elapsed


def count_rows(warehouse: Warehouse) -> tuple[int, int]:
    """The raw leads and stage changes the build accounted for."""
    [(_, rows)] = warehouse.query(
        ["select table_name, sum(row_count) as n from marts.rpt_data_quality group by table_name"]
    )
    counts = {row["table_name"]: int(row["n"]) for row in rows}
    return counts["raw_leads"], counts["raw_lead_transitions"]


def load_scale_data(warehouse: Warehouse, folder: Path) -> None:
    leads, transitions = folder / "raw_leads.csv", folder / "raw_lead_transitions.csv"
    if warehouse.target == "postgres":
        connection = postgres_connection(warehouse.postgres_database)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute("create schema if not exists crm")
                for name, path, columns in [
                    ("raw_leads", leads, LEAD_COLUMNS),
                    ("raw_lead_transitions", transitions, TRANSITION_COLUMNS),
                ]:
                    cursor.execute(f"drop table if exists crm.{name}")
                    cursor.execute(
                        f"create table crm.{name} ({', '.join(c + ' text' for c in columns)})"
                    )
                    with path.open() as handle:
                        cursor.copy_expert(
                            f"copy crm.{name} from stdin with (format csv, header true)", handle
                        )
        finally:
            connection.close()
    else:
        subprocess.run(
            [sys.executable, "-c", SPARK_LOADER, str(leads), str(transitions)],
            cwd=warehouse.folder,
            env={**os.environ, **warehouse.env()},
            check=True,
            capture_output=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["postgres", "spark"], required=True)
    parser.add_argument("--leads", type=int, default=34_500, help="about 2.9 transitions each")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pipeline_engine_bench_") as tmp:
        root = Path(tmp)
        demo = new_warehouse(args.target, root / "demo")
        seconds = timed_build(demo, unit_tests=True)
        rows.append(("demo seeds (dbt seed + build, unit tests)", *count_rows(demo), seconds))

        scale = new_warehouse(args.target, root / "scale")
        data = root / "data"
        scale_data.generate(
            data,
            args.leads,
            stages=REPO / "seeds/config/pipeline_stages.csv",
            file_format="csv",
        )
        start = time.perf_counter()
        load_scale_data(scale, data)
        loaded = time.perf_counter() - start
        seconds = timed_build(scale, unit_tests=False, crm_schema="crm")
        rows.append(
            (f"scale data from schema crm (load {loaded:.1f} s)", *count_rows(scale), seconds)
        )
    print(f"\n{args.target}: dbt build wall time")
    print(f"  {'data':48} {'leads':>8} {'transitions':>12} {'build':>8}")
    for name, leads, transitions, seconds in rows:
        print(f"  {name:48} {leads:>8,} {transitions:>12,} {seconds:>7.1f}s")
    print(json.dumps({"target": args.target, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
