"""The benchmark at its smallest size, so the script cannot rot: it runs,
writes its table, the floors' and the Polars and pandas peers' numbers
equal the warehouse's, and the incremental refresh equals a full refresh. Timings are
printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dbt_project_harness import REPO


def test_small_benchmark_runs_and_agrees(tmp_path: Path):
    out = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--sizes",
            "100k",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "work"),
            # The km_median history (10 s of models at this size) is the
            # benchmark's own business: not run here.
            "--km-history-max",
            "0",
        ],
        capture_output=True,
        text=True,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = out.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| transitions |"))
    table = [line for line in lines[header + 2 :] if line.startswith("|")][:1]
    assert table and lines[header + 3] == "", "one row: one size"
    # Every column filled; the refresh equals a full refresh, and both floors
    # and both peers computed the same numbers.
    cells = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert len(cells) == 21 and all(cells)
    assert cells[9] == "yes" and cells[-1] == "yes"
    # The forecast's row: its timing, and every method backtested.
    forecast = next(
        i for i, line in enumerate(lines) if line.startswith("| transitions | forecast |")
    )
    cells = [cell.strip() for cell in lines[forecast + 2].strip("|").split("|")]
    assert len(cells) == 7 and all(cell and not cell.startswith("-") for cell in cells)
