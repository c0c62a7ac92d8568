"""The benchmark behind `make bench`: writes benchmarks/RESULTS.md.

For each size (transitions: 100k, 1M, 10M by default), on the same
generated Parquet files (scripts/generate_scale_data.py, deterministic):
  (a) the full `dbt build` on all but the latest 0.1 % of the stage changes:
      wall time, peak memory, and the per-model times from run_results.json;
  (b) the refresh after those 0.1 % arrive (a second `dbt build`);
  (c) the floor: fct_stage_conversion in one hand-written DuckDB statement
      (benchmarks/floor.py);
  (d) the peer: the same in vectorised pandas (benchmarks/pandas_peer.py).
The floor's and the peer's numbers are checked against the warehouse's
fct_stage_conversion, so the comparison is of equal work. Every step runs
in its own process, whose peak resident memory is what is reported. Times
are measured, never asserted (machines are noisy).

    python benchmarks/run.py [--sizes 100k,1M,10M] [--out benchmarks/RESULTS.md]
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
sys.path.insert(0, str(REPO / "scripts"))
from generate_scale_data import generate  # noqa: E402

SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
# The scale generator writes about 2.7 transition rows per lead.
TRANSITIONS_PER_LEAD = 2.7
INCREMENT_SHARE = 0.001
STAGES = REPO / "seeds" / "config" / "pipeline_stages.csv"
BIN = Path(sys.executable).parent
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


def dbt_build(exports: Path, database: Path, target: Path) -> tuple[Measured, dict[str, float]]:
    """A dbt build on the exports; returns the measure and each node's seconds."""
    dbt_vars = json.dumps({"raw_path": str(exports), "raw_format": "parquet"})
    command = [str(BIN / "dbt"), "build", "--vars", dbt_vars, "--target-path", str(target)]
    env = {
        "PIPELINE_DUCKDB_PATH": str(database),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_PROJECT_DIR": str(REPO),
    }
    measured = measure(command, env)
    results = json.loads((target / "run_results.json").read_text())["results"]
    return measured, {row["unique_id"]: row["execution_time"] for row in results}


def model_seconds(nodes: dict[str, float]) -> float:
    return sum(seconds for node, seconds in nodes.items() if node.startswith("model."))


def test_seconds(nodes: dict[str, float]) -> float:
    return sum(seconds for node, seconds in nodes.items() if not node.startswith("model."))


def lines_as_rows(text: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return {row["stage_key"]: row for row in rows}


def warehouse_conversion(database: Path) -> dict[str, dict]:
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute("select * from marts.fct_stage_conversion")
        names = [column[0] for column in cursor.description]
        return {row[1]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def agrees(computed: dict[str, dict], warehouse: dict[str, dict]) -> bool:
    return set(computed) == set(warehouse) and all(
        computed[stage][column] == warehouse[stage][column]
        for stage in warehouse
        for column in COMPARED
    )


def run_size(label: str, transitions: int, work: Path) -> dict[str, object]:
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

    print(f"[{label}] full build", file=sys.stderr)
    full, full_nodes = dbt_build(exports, database, folder / "target_full")
    for path in generated.glob("*_inc01.parquet"):
        os.link(path, exports / path.name)
    print(f"[{label}] refresh after {INCREMENT_SHARE:.1%} new events", file=sys.stderr)
    refresh, refresh_nodes = dbt_build(exports, database, folder / "target_refresh")
    warehouse = warehouse_conversion(database)

    print(f"[{label}] floor and pandas", file=sys.stderr)
    floor = measure(
        [sys.executable, str(REPO / "benchmarks" / "floor.py"), str(exports), str(STAGES)]
    )
    peer = measure(
        [sys.executable, str(REPO / "benchmarks" / "pandas_peer.py"), str(exports), str(STAGES)]
    )
    result = {
        "label": label,
        "transition_rows": sum(n for name, n in counts.items() if "transitions" in name),
        "lead_rows": sum(n for name, n in counts.items() if "leads" in name),
        "increment_rows": sum(n for name, n in counts.items() if "transitions_inc" in name),
        "generate_s": generate_seconds,
        "full": full,
        "full_models_s": model_seconds(full_nodes),
        "full_tests_s": test_seconds(full_nodes),
        "full_nodes": full_nodes,
        "refresh": refresh,
        "refresh_models_s": model_seconds(refresh_nodes),
        "floor": floor,
        "floor_agrees": agrees(lines_as_rows(floor.stdout), warehouse),
        "pandas": peer,
        "pandas_agrees": agrees(lines_as_rows(peer.stdout), warehouse),
    }
    database.unlink(missing_ok=True)
    return result


def report(results: list[dict[str, object]]) -> str:
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}"
    )
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (benchmarks/run.py) on {machine}; DuckDB {duckdb.__version__}.",
        'Times in seconds, memory = peak resident set of the process. "models" is the sum of the',
        "models' own times from run_results.json (dbt's start-up, parsing and tests excluded);",
        '"build" is the whole `dbt build` wall time, tests included. The refresh is the build',
        f"after the latest {INCREMENT_SHARE:.1%} of the stage changes arrive.",
        "",
        "| transitions | build | models | tests, seeds | build MB | refresh | refresh models"
        " | refresh/build | floor | floor MB | pandas | pandas MB | models/floor"
        " | pandas/models | same numbers |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        full, refresh, floor, peer = r["full"], r["refresh"], r["floor"], r["pandas"]
        same = "yes" if r["floor_agrees"] and r["pandas_agrees"] else "NO"
        lines.append(
            f"| {r['transition_rows']:,} | {full.seconds:.1f} | {r['full_models_s']:.1f}"
            f" | {r['full_tests_s']:.1f} | {full.peak_mb:,.0f} | {refresh.seconds:.1f}"
            f" | {r['refresh_models_s']:.1f} | {refresh.seconds / full.seconds:.2f}"
            f" | {floor.seconds:.1f} | {floor.peak_mb:,.0f} | {peer.seconds:.1f}"
            f" | {peer.peak_mb:,.0f} | {r['full_models_s'] / floor.seconds:.2f}"
            f" | {peer.seconds / r['full_models_s']:.2f} | {same} |"
        )
    largest = results[-1]
    lines += [
        "",
        f"Per-node times of the full build at {largest['transition_rows']:,} transitions"
        " (slowest 15):",
        "",
        "| seconds | node |",
        "|---|---|",
    ]
    slowest = sorted(largest["full_nodes"].items(), key=lambda item: -item[1])[:15]
    lines += [f"| {seconds:.2f} | `{node}` |" for node, seconds in slowest]
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
    args = parser.parse_args(argv)
    labels = [label.strip() for label in args.sizes.split(",") if label.strip()]
    unknown = [label for label in labels if label not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(SIZES)}")
    results = [run_size(label, SIZES[label], args.work) for label in labels]
    text = report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0 if all(r["floor_agrees"] and r["pandas_agrees"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
