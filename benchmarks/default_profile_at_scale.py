"""Does the default profile build a very large export? (issue 26)

Generates --leads leads (35 M give about 95 M stage changes) and runs the
models (`dbt run`, after `dbt seed`) with profiles.yml as it is: no
PIPELINE_DUCKDB_MEMORY_LIMIT, so DuckDB's default share of the machine's
memory. Prints the time and the peak memory of dbt's process as a markdown
line to append to benchmarks/RESULTS.md. Too heavy for `make bench`: run it
on its own.

    .venv/bin/python benchmarks/default_profile_at_scale.py --leads 35000000
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from run import REPO, STAGES, dbt, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=35_000_000)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / ".work" / "scale")
    args = parser.parse_args(argv)
    os.environ.pop("PIPELINE_DUCKDB_MEMORY_LIMIT", None)  # the default profile
    shutil.rmtree(args.work, ignore_errors=True)
    exports = args.work / "exports"
    began = time.perf_counter()
    counts = generate(exports, leads=args.leads, stages=STAGES)
    generated = time.perf_counter() - began
    transitions = sum(n for name, n in counts.items() if "transitions" in name)
    database = args.work / "warehouse.duckdb"
    dbt("seed", exports, database, args.work / "target_seed")
    run = dbt("run", exports, database, args.work / "target_run")
    slowest = sorted(run.nodes.items(), key=lambda item: -item[1])[:3]
    print(
        f"| {transitions:,} | {args.leads:,} | {generated:.0f} | {run.measured.seconds:.0f} "
        f"| {run.measured.peak_mb / 1024:.1f} | "
        + ", ".join(f"{node.split('.')[-1]} {seconds:.0f} s" for node, seconds in slowest)
        + f" | {platform.machine()}, {os.cpu_count()} cores |"
    )
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
