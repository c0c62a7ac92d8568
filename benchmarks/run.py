"""The benchmark behind `make bench`: writes benchmarks/RESULTS.md.

For each size (transitions: 100k, 1M, 10M by default), on the same
generated Parquet files (scripts/generate_scale_data.py, deterministic):
  (a) the full build on all but the latest 0.1 % of the stage changes:
      `dbt run` (the models; dbt's own elapsed time, which leaves out its
      start-up and parsing, and the process's wall time and peak memory),
      then `dbt test`, with the per-model times from run_results.json;
  (b) the incremental refresh after those 0.1 % arrive (`dbt run` and
      `dbt test` again), and whether its marts equal a full refresh
      (`dbt run --full-refresh` into a second warehouse);
  (c) the floor: fct_stage_conversion in the fastest hand-written DuckDB
      statement (benchmarks/floor.py), and the first floor it replaced;
  (d) the peers: the same in Polars' lazy API (benchmarks/polars_peer.py)
      and in vectorised pandas (benchmarks/pandas_peer.py);
  (e) the history fct_stage_conversion_daily (a year of days, one pass)
      on its own after the full build: its three models run again, with
      the default expected_days_basis and, up to 1M transitions, with
      km_median (which reads each visit once per day it existed);
  (f) the revenue forecast and its backtest (docs/metrics.md section 17:
      the as-of date and each month's end of the history) on their own
      after the full build, and the generated set's backtested accuracy a
      month ahead for each method.
The floors' and the peers' numbers are checked against the warehouse's
fct_stage_conversion, so the comparison is of equal work. Every step runs
in its own process, whose peak resident memory is what is reported. Times
are measured, never asserted (machines are noisy).

    python benchmarks/run.py [--sizes 100k,1M,10M] [--out benchmarks/RESULTS.md]
                             [--km-history-max 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
# The repository's root, for the sales_pipeline package, wherever this runs from.
sys.path.insert(0, str(REPO))
from sales_pipeline.scale_data import generate  # noqa: E402

# The generated files are complete when the build starts: none waits to settle.
os.environ["PIPELINE_EXPORT_SETTLE_SECONDS"] = "0"
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
# The scale generator writes about 2.7 transition rows per lead.
TRANSITIONS_PER_LEAD = 2.7
INCREMENT_SHARE = 0.001
STAGES = REPO / "seeds" / "config" / "pipeline_stages.csv"
BIN = Path(sys.executable).parent
# The models of the one-pass history (part of every build).
HISTORY_MODELS = ("int_history_days", "int_stage_thresholds_daily", "fct_stage_conversion_daily")
# The largest size the km_median history is measured at (it grows with visits x days).
KM_HISTORY_MAX_TRANSITIONS = 1_000_000
# The forecast's models: its calendar and everything that reads it.
FORECAST_SELECTION = "int_forecast_windows+"
FORECAST_METHODS = ("model", "weighted_pipeline", "last_3_months_average")
COMPARED = ["leads_entered", "leads_advanced", "leads_completed", "leads_old", "leads_in_window"]

# Runs a command as its only child and prints the child's peak RSS (KiB).
MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    stdout: str


def measure(command: list[str], env: dict[str, str] | None = None) -> Measured:
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return Measured(seconds, peak_kib / 1024, result.stdout)


@dataclass
class Invocation:
    measured: Measured
    elapsed: float  # dbt's own time for the nodes, start-up and parsing excluded
    nodes: dict[str, float]


def dbt(
    command: str,
    exports: Path,
    database: Path,
    target: Path,
    *options: str,
    extra_vars: dict[str, str] | None = None,
) -> Invocation:
    """A dbt command on the export files; a run of every model loads the new
    files first (sales_pipeline.load, as make build does), and its elapsed
    time includes the load's wall time: reading the files is part of
    building the models."""
    loading = 0.0
    if command == "run" and "--select" not in options:
        load = [sys.executable, "-m", "sales_pipeline.load", "--warehouse", str(database)]
        load += ["--raw-path", str(exports), "--raw-format", "parquet", "--settle-seconds", "0"]
        if "--full-refresh" in options:
            load.append("--full-refresh")
        loading = measure(load).seconds
    dbt_vars = json.dumps({"raw_path": str(exports), "raw_format": "parquet", **(extra_vars or {})})
    env = {
        "PIPELINE_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_PROJECT_DIR": str(REPO),
    }
    measured = measure(
        # Its own target and log folders: nothing of the repository is written.
        [
            *(str(BIN / "dbt"), command, *options, "--vars", dbt_vars),
            *("--target-path", str(target), "--log-path", str(target / "logs")),
        ],
        env,
    )
    results = json.loads((target / "run_results.json").read_text())
    nodes = {row["unique_id"]: row["execution_time"] for row in results["results"]}
    return Invocation(measured, results["elapsed_time"] + loading, nodes)


def build(exports: Path, database: Path, target: Path) -> tuple[Invocation, Invocation]:
    """The models (`dbt run`), then every data test (`dbt test`)."""
    return dbt("run", exports, database, target / "run"), dbt(
        "test", exports, database, target / "test"
    )


def mart_fingerprints(database: Path) -> dict[str, tuple]:
    """Row count and an order-free hash sum of every mart, the history's
    every day included."""
    with duckdb.connect(str(database), read_only=True) as connection:
        marts = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " order by table_name"
        ).fetchall()
        fingerprints = {}
        for (mart,) in marts:
            # loaded_at (rpt_export_files) is when a run first read a file.
            columns = [
                row[0]
                for row in connection.execute(f"describe marts.{mart}").fetchall()
                if row[0] != "loaded_at"
            ]
            fingerprints[mart] = connection.execute(
                f"select count(*), sum(hash({', '.join(columns)})::hugeint) from marts.{mart}"
            ).fetchone()
        return fingerprints


def history_day_count(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(
            "select count(distinct as_of_date) from marts.fct_stage_conversion_daily"
        ).fetchone()[0]


def lines_as_rows(text: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return {row["stage_key"]: row for row in rows}


def warehouse_conversion(database: Path) -> dict[str, dict]:
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute("select * from marts.fct_stage_conversion")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return {row["stage_key"]: row for row in rows}


def agrees(computed: dict[str, dict], warehouse: dict[str, dict]) -> bool:
    return set(computed) == set(warehouse) and all(
        computed[stage][column] == warehouse[stage][column]
        for stage in warehouse
        for column in COMPARED
    )


def forecast_accuracy(database: Path) -> dict[str, tuple]:
    """Per method, a month ahead: months compared, mean absolute percentage
    error and bias (rpt_forecast_accuracy; the generated set has one
    pipeline)."""
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select forecast_method, months_compared, mean_absolute_percentage_error, bias"
            " from marts.rpt_forecast_accuracy where months_ahead = 1"
        ).fetchall()
    return {method: tuple(rest) for method, *rest in rows}


def run_size(
    label: str, transitions: int, work: Path, km_history_max: int = KM_HISTORY_MAX_TRANSITIONS
) -> dict[str, object]:
    folder = work / label
    shutil.rmtree(folder, ignore_errors=True)
    generated, exports = folder / "generated", folder / "exports"
    began = time.perf_counter()
    counts = generate(
        generated,
        leads=round(transitions / TRANSITIONS_PER_LEAD),
        increments=1,
        increment_share=INCREMENT_SHARE,
        stages=STAGES,
    )
    generate_seconds = time.perf_counter() - began
    exports.mkdir(parents=True)
    for path in generated.glob("*_base.parquet"):
        os.link(path, exports / path.name)
    database = folder / "warehouse.duckdb"
    dbt("seed", exports, database, folder / "target_seed")

    print(f"[{label}] full build", file=sys.stderr)
    full, full_tests = build(exports, database, folder / "target_full")
    print(f"[{label}] the history on its own", file=sys.stderr)
    history = dbt("run", exports, database, folder / "target_history", "--select", *HISTORY_MODELS)
    history_km = (
        dbt(
            "run",
            exports,
            database,
            folder / "target_history_km",
            "--select",
            *HISTORY_MODELS,
            extra_vars={"expected_days_basis": "km_median"},
        )
        if transitions <= km_history_max
        else None
    )
    history_days = history_day_count(database)
    print(f"[{label}] the forecast on its own", file=sys.stderr)
    forecast = dbt(
        "run", exports, database, folder / "target_forecast", "--select", FORECAST_SELECTION
    )
    accuracy = forecast_accuracy(database)
    for path in generated.glob("*_inc01.parquet"):
        os.link(path, exports / path.name)
    print(f"[{label}] refresh after {INCREMENT_SHARE:.1%} new events", file=sys.stderr)
    refresh, refresh_tests = build(exports, database, folder / "target_refresh")
    warehouse = warehouse_conversion(database)
    print(f"[{label}] full refresh on every file, to compare", file=sys.stderr)
    rebuilt = folder / "rebuilt.duckdb"
    dbt("seed", exports, rebuilt, folder / "target_seed")
    full_refresh = dbt("run", exports, rebuilt, folder / "target_rebuilt", "--full-refresh")
    refresh_equals_full = mart_fingerprints(database) == mart_fingerprints(rebuilt)
    rebuilt.unlink()

    print(f"[{label}] floors and peers", file=sys.stderr)

    def script(name: str, *options: str) -> Measured:
        path = REPO / "benchmarks" / name
        return measure([sys.executable, str(path), str(exports), str(STAGES), *options])

    computed = {
        "floor": script("floor.py"),
        "first_floor": script("floor.py", "--first"),
        "polars": script("polars_peer.py"),
        "pandas": script("pandas_peer.py"),
    }
    result = {
        "label": label,
        "transition_rows": sum(n for name, n in counts.items() if "transitions" in name),
        "lead_rows": sum(n for name, n in counts.items() if "leads" in name),
        "increment_rows": sum(n for name, n in counts.items() if "transitions_inc" in name),
        "generate_s": generate_seconds,
        "full": full,
        "full_tests": full_tests,
        "history": history,
        "history_km": history_km,
        "history_days": history_days,
        "km_history_max": km_history_max,
        "forecast": forecast,
        "accuracy": accuracy,
        "refresh": refresh,
        "refresh_tests": refresh_tests,
        "full_refresh": full_refresh,
        "refresh_equals_full": refresh_equals_full,
        **computed,
        "agrees": all(agrees(lines_as_rows(run.stdout), warehouse) for run in computed.values()),
    }
    database.unlink(missing_ok=True)
    return result


def slowest_nodes(title: str, invocations: list[Invocation], count: int) -> list[str]:
    nodes = {node: seconds for run in invocations for node, seconds in run.nodes.items()}
    slowest = sorted(nodes.items(), key=lambda item: -item[1])[:count]
    return ["", title, "", "| seconds | node |", "|---|---|"] + [
        f"| {seconds:.2f} | `{node}` |" for node, seconds in slowest
    ]


def report(results: list[dict[str, object]]) -> str:
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}"
    )
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (benchmarks/run.py) on {machine}; DuckDB {duckdb.__version__}.",
        "Times in seconds; memory is the peak resident set of the process. *models* is",
        "dbt's own elapsed time for `dbt run` (all models; its start-up and parsing left",
        "out), *run* the wall time of that process, *tests* `dbt test`'s elapsed time.",
        f"The incremental refresh runs the same after the latest {INCREMENT_SHARE:.1%} of",
        "the stage changes arrive in a new file; *= full* says its marts equal a",
        "`--full-refresh` build on every file (row counts and hash sums). The floor (the",
        "fastest single DuckDB statement), the first floor it replaced, Polars (lazy) and",
        "pandas compute fct_stage_conversion from the same files, each in its own",
        "process (wall time, start-up included); *same numbers* says all four counts",
        "equal the warehouse's.",
        "",
        "| transitions | models | run | tests | run MB | refresh models | refresh tests"
        " | refresh MB | refresh/full | = full | floor | floor MB | first floor | polars"
        " | polars MB | pandas | pandas MB | models/floor | polars/models | pandas/models"
        " | same numbers |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        full, refresh, floor = r["full"], r["refresh"], r["floor"]
        polars, pandas = r["polars"], r["pandas"]
        same = "yes" if r["agrees"] else "NO"
        lines.append(
            f"| {r['transition_rows']:,} | {full.elapsed:.1f} | {full.measured.seconds:.1f}"
            f" | {r['full_tests'].elapsed:.1f} | {full.measured.peak_mb:,.0f}"
            f" | {refresh.elapsed:.1f} | {r['refresh_tests'].elapsed:.1f}"
            f" | {refresh.measured.peak_mb:,.0f} | {refresh.elapsed / full.elapsed:.2f}"
            f" | {'yes' if r['refresh_equals_full'] else 'NO'} | {floor.seconds:.1f}"
            f" | {floor.peak_mb:,.0f} | {r['first_floor'].seconds:.1f} | {polars.seconds:.1f}"
            f" | {polars.peak_mb:,.0f} | {pandas.seconds:.1f} | {pandas.peak_mb:,.0f}"
            f" | {full.elapsed / floor.seconds:.2f} | {polars.seconds / full.elapsed:.2f}"
            f" | {pandas.seconds / full.elapsed:.2f} | {same} |"
        )
    lines += [
        "",
        "The history fct_stage_conversion_daily, every day from a year before the",
        "as-of date, computed in one pass (docs/metrics.md section 13). It is part of",
        "*models* above; here its three models run again on their own (dbt's elapsed",
        "time), with the default expected_days_basis (average) and with km_median,",
        "whose Kaplan-Meier median is estimated day by day.",
        "",
        "| transitions | days | history | history/models | history, km_median | km_median/models |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        full, history, km = r["full"], r["history"], r["history_km"]
        km_cells = (
            f"{km.elapsed:.1f} | {km.elapsed / full.elapsed:.2f}"
            if km
            else f"not run (above {r['km_history_max']:,}) | -"
        )
        lines.append(
            f"| {r['transition_rows']:,} | {r['history_days']} | {history.elapsed:.1f}"
            f" | {history.elapsed / full.elapsed:.2f} | {km_cells} |"
        )
    lines += [
        "",
        "The revenue forecast (docs/metrics.md section 17) for the as-of date and, for",
        "its backtest, as of each month's end of the history: its models run again on",
        "their own (dbt's elapsed time and the process's peak memory), and the",
        "backtested mean absolute percentage error (MAPE) of next month's won amount",
        "and the bias of each method on the generated set (months compared in brackets).",
        "",
        "| transitions | forecast | forecast/models | forecast MB | model MAPE, bias"
        " | weighted pipeline MAPE, bias | last 3 months MAPE, bias |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        full, forecast, accuracy = r["full"], r["forecast"], r["accuracy"]

        def method_cell(method: str, accuracy=accuracy) -> str:
            months, error, bias = accuracy.get(method, (0, None, None))
            if error is None:
                return f"- ({months})"
            return f"{error:.0%}, {bias:+.0%} ({months})"

        lines.append(
            f"| {r['transition_rows']:,} | {forecast.elapsed:.1f}"
            f" | {forecast.elapsed / full.elapsed:.2f} | {forecast.measured.peak_mb:,.0f} | "
            + " | ".join(method_cell(method) for method in FORECAST_METHODS)
            + " |"
        )
    largest = results[-1]
    size = f"{largest['transition_rows']:,} transitions"
    lines += slowest_nodes(
        f"Per-node times of the full build at {size} (slowest 15; dbt runs up to 4 at"
        " once, so they overlap):",
        [largest["full"], largest["full_tests"]],
        15,
    )
    lines += slowest_nodes(
        f"Per-node times of the refresh at {size} (slowest 10; the full refresh on every"
        f" file took {largest['full_refresh'].elapsed:.1f} s):",
        [largest["refresh"], largest["refresh_tests"]],
        10,
    )
    lines += [
        "",
        "Generation of the Parquet files (scripts/generate_scale_data.py): "
        + ", ".join(
            f"{r['transition_rows']:,} transitions in {r['generate_s']:.1f} s" for r in results
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="100k,1M,10M", help=f"comma-separated, of {', '.join(SIZES)}"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / ".work")
    parser.add_argument(
        "--km-history-max",
        type=int,
        default=KM_HISTORY_MAX_TRANSITIONS,
        help="the largest size the km_median history runs at (0: never)",
    )
    args = parser.parse_args(argv)
    labels = [label.strip() for label in args.sizes.split(",") if label.strip()]
    unknown = [label for label in labels if label not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    results = [run_size(label, SIZES[label], args.work, args.km_history_max) for label in labels]
    text = report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    agreed = all(r["agrees"] and r["refresh_equals_full"] for r in results)
    return 0 if agreed else 1


if __name__ == "__main__":
    sys.exit(main())
