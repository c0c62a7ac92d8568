"""The loader landing export files in PostgreSQL (sales_pipeline.load
--target postgres) against PostgreSQL's own floor, on the same CSV files.
Prints a Markdown table; benchmarks/LOADING.md holds the results.

    python scripts/throwaway_postgres.py -- python benchmarks/loading_postgres.py \\
        --data 1M=/tmp/load1m --data 10M=/tmp/load10m --repeat 3

The folders come from scripts/generate_scale_data.py --format csv. Each
round lands into a new empty database on the server the PIPELINE_POSTGRES_*
variables name (throwaway_postgres.py sets them).

- loader: the project's loader end to end, in a process of its own: the
  listing, the inspection of every line, the SHA-256 checksums, DuckDB
  reading each file and COPY ... FROM STDIN of its rows, the ledger, one
  transaction. Peak memory is that process's (the server's is not counted).
- copy-floor: the server reading the same files itself, COPY table FROM
  'file' (format csv, header, freeze) into the same text tables created in
  the same transaction (so the rows are written frozen): no client, no
  inspection, no checksum, no source_file column. Nothing lands the rows
  faster on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sales_pipeline.engines import postgres_connection  # noqa: E402
from sales_pipeline.export_files import RAW_COLUMNS  # noqa: E402

SERVER_DATABASE = os.environ.get("PIPELINE_POSTGRES_DBNAME", "pipeline")


def fresh_database(name: str) -> None:
    server = postgres_connection(SERVER_DATABASE)
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(f"drop database if exists {name}")
        cursor.execute(f"create database {name}")
    server.close()


def run_loader(folder: Path, database: str) -> tuple[float, float]:
    """Wall seconds and peak resident MB of the loader's process."""
    env = {**os.environ, "PIPELINE_POSTGRES_DBNAME": database, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "sales_pipeline.load", "--target", "postgres"]
    command += ["--raw-path", str(folder), "--settle-seconds", "0"]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the loader failed on {folder}")
    return seconds, usage.ru_maxrss / 1024


def run_copy_floor(folder: Path, database: str) -> tuple[float, float]:
    """Wall seconds of the server's own COPY of every file (no client
    memory): the tables created in the same transaction, so COPY ... FREEZE
    writes the rows already frozen, the cheapest load PostgreSQL has."""
    from psycopg2 import sql

    connection = postgres_connection(database)
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("create schema crm_exports")
        for table, columns in RAW_COLUMNS.items():
            typed = ", ".join(f"{column} varchar" for column in [*columns, "source_file"])
            cursor.execute(f"create table crm_exports.{table} ({typed})")
        for path in sorted(folder.iterdir()):
            table = next(
                (t for t in ("raw_lead_transitions", "raw_leads") if path.name.startswith(t)), None
            )
            if table is None or not path.name.endswith(".csv"):
                continue
            # The file's header names the columns in its order: only the
            # table's own names are taken, quoted (a file never writes SQL).
            header = path.open(encoding="utf-8").readline().strip().split(",")
            if sorted(header) != sorted(RAW_COLUMNS[table]):
                raise SystemExit(f"{path.name}: header {header} is not {RAW_COLUMNS[table]}")
            cursor.execute(
                sql.SQL("copy {} ({}) from {} with (format csv, header true, freeze true)").format(
                    sql.Identifier("crm_exports", table),
                    sql.SQL(", ").join(map(sql.Identifier, header)),
                    sql.Literal(str(path.resolve())),
                )
            )
    connection.commit()
    seconds = time.perf_counter() - start
    connection.close()
    return seconds, 0.0


def rows_landed(database: str) -> int:
    connection = postgres_connection(database)
    with connection.cursor() as cursor:
        cursor.execute("select count(*) from crm_exports.raw_lead_transitions")
        (count,) = cursor.fetchone()
    connection.close()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True, help="LABEL=csv folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print("| transitions | approach | rows landed | seconds (median) | peak MB (client) |")
    print("|---|---|---:|---:|---:|")
    for item in args.data:
        label, folder = item.split("=", 1)
        for approach, run in (("copy-floor", run_copy_floor), ("loader", run_loader)):
            times, peaks, rows = [], [], 0
            for round_number in range(args.repeat):
                database = f"bench_load_{round_number}"
                fresh_database(database)
                seconds, peak = run(Path(folder), database)
                rows = rows_landed(database)
                times.append(seconds)
                peaks.append(peak)
            peak = f"{max(peaks):,.0f}" if approach == "loader" else "-"
            median = statistics.median(times)
            print(f"| {label} | {approach} | {rows:,} | {median:.1f} | {peak} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
