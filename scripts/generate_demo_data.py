"""Deterministic demo-data generator for the sales-pipeline warehouse.

Usage::

    python scripts/generate_demo_data.py --leads 2000 --seed 42 --out seeds/raw \
        --stages seeds/config/pipeline_stages.csv [--start 2025-01-01] [--months 20] \
        [--edge-case-rate 1.0] [--timestamp-granularity second|minute|day]

Writes raw_leads.csv and raw_lead_transitions.csv into --out and prints
their row counts. The model and its edge cases: sales_pipeline/demo_data.py.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Sequence
from datetime import date

# The repository's root, for the sales_pipeline package, wherever this runs from.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from sales_pipeline.demo_data import (
    GRANULARITY_SECONDS,
    generate,
    read_stages,
    summarize,
    write_csvs,
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("seeds/raw"))
    parser.add_argument(
        "--stages",
        type=pathlib.Path,
        default=pathlib.Path("seeds/config/pipeline_stages.csv"),
    )
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--months", type=int, default=20)
    parser.add_argument("--edge-case-rate", type=float, default=1.0)
    parser.add_argument(
        "--timestamp-granularity", choices=tuple(GRANULARITY_SECONDS), default="second"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    stages = read_stages(args.stages)
    leads_rows, rows = generate(
        args.leads,
        args.seed,
        stages,
        args.start,
        args.months,
        args.edge_case_rate,
        args.timestamp_granularity,
    )
    write_csvs(args.out, leads_rows, rows)
    elapsed = time.perf_counter() - began
    print(
        f"wrote {len(leads_rows)} leads and {len(rows)} transitions "
        f"to {args.out} in {elapsed:.2f} s"
    )
    if not args.quiet:
        for key, value in summarize(leads_rows, rows).items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
