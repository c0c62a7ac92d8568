"""The pipeline dashboard: one self-contained HTML page built from the
published marts, written next to the warehouse (warehouse/pipeline.duckdb ->
warehouse/pipeline_report.html). Plotly's JavaScript is embedded in the page,
so it opens from disk with no network.

It shows the funnel (each stage's conversion rate against its benchmark and
its diagnosis in plain words), the leads the next target month needs against
the leads in each stage, dwell-time distributions with the expected-days
threshold, the week's movement of the open leads, what will close in the
coming months (the forecast, beside each method's forecast of the past
months and how far off it was), old leads by rep and the reps' to-do list
(sortable tables), the daily history of conversion per stage, and the win
rate, weighted pipeline and coverage. It reads the marts only: every number is the mart's. With
several pipelines the page has a section per pipeline (its name as heading),
each from that pipeline's rows alone: its own cards, next target month, plan,
charts and tables; with one, no pipeline heading.

queries.py reads the marts, figures.py draws the charts, page.py fills the
templates page.html and section.html (one per pipeline) with them and the
tables.

Command line, as `make report` runs it:
    python -m sales_pipeline.dashboard --warehouse warehouse/pipeline.duckdb [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

from sales_pipeline.dashboard.page import render
from sales_pipeline.dashboard.queries import MARTS_READ, DashboardData, read_dashboard_data

__all__ = ["MARTS_READ", "DashboardData", "build_dashboard", "dashboard_path", "main", "render"]


def dashboard_path(warehouse: Path) -> Path:
    """Where the page goes: beside the warehouse file, named after it."""
    return warehouse.with_name(f"{warehouse.stem}_report.html")


def build_dashboard(warehouse: Path, out: Path | None = None) -> Path:
    """Reads the published warehouse (read-only) and writes the page, whole:
    a browser that opens it mid-write still sees the previous page."""
    # The folder resolved, not the file: the published file is a link into
    # the current build's folder, and the page belongs beside the link.
    warehouse = warehouse.parent.resolve() / warehouse.name
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse} does not exist: run `make build` first")
    out = (out or dashboard_path(warehouse)).resolve()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        data = read_dashboard_data(connection)
    page = render(data, warehouse.name)
    staged = out.with_name(f".{out.name}.tmp")
    staged.write_text(page, encoding="utf-8")
    os.replace(staged, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="default: <warehouse>_report.html beside it")
    args = parser.parse_args(argv)
    try:
        path = build_dashboard(args.warehouse, args.out)
    except (FileNotFoundError, duckdb.Error) as error:
        print(f"make report: {error}", file=sys.stderr)
        return 1
    print(f"Dashboard: {path}  (open it in a browser: file://{path})")
    return 0
