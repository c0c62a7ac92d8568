"""Scale mode of the demo data: millions of leads, written by DuckDB in seconds.

    python scripts/generate_scale_data.py --leads 3500000 --out /data/scale \\
        --format parquet [--seed 42] [--increments 2 --increment-share 0.001]

Prints the rows written per file. The model, and the increment files
--increments K writes: sales_pipeline/scale_data.py.
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
from sales_pipeline.scale_data import generate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--stages", type=pathlib.Path, default=pathlib.Path("seeds/config/pipeline_stages.csv")
    )
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--months", type=int, default=20)
    parser.add_argument(
        "--format", dest="file_format", choices=("parquet", "csv"), default="parquet"
    )
    parser.add_argument(
        "--increments", type=int, default=0, help="increment files of the latest changes"
    )
    parser.add_argument(
        "--increment-share", type=float, default=0.001, help="share of the rows per increment"
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    counts = generate(
        args.out,
        args.leads,
        args.seed,
        args.stages,
        args.start,
        args.months,
        args.file_format,
        args.increments,
        args.increment_share,
    )
    for name, rows in counts.items():
        print(f"{name:45s} {rows:>12,d} rows")
    print(f"written in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
