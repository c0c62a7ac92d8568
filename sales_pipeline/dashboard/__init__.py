"""The pipeline dashboard: one self-contained HTML page built from the
published marts, written next to the warehouse (warehouse/pipeline.duckdb ->
warehouse/pipeline_report.html). Plotly's JavaScript is embedded in the page,
so it opens from disk with no network.

It opens with a verdict on the next target month (verdict.py): the forecast
of that month against its revenue target, how far off the forecast has been,
the stage furthest short of the leads the plan needs, and the stalled
leads; each number links to the section that explains it. Then the plan,
what will close (the forecast beside each method's past forecasts and how
far off they were), the funnel against benchmarks with its diagnosis in
plain words, the reps' to-do list (the leads worth saving first, the likely
dead apart), win rate and conversion per rep, source and segment, the
week's movement of the open leads, dwell-time distributions, the daily
history of conversion and the pipeline value. Every label is a term of the
glossary at the page's end (glossary.py), whose definitions are the mart
columns' descriptions in the dbt docs, read from the warehouse's comments.
A section with nothing to show says why and what would fill it. It reads
the marts only: every number is the mart's. With several pipelines the page
has a section per pipeline (its name as heading), each from that pipeline's
rows alone; with one, no pipeline heading. The page lays out from 360 px
(a phone) to 1,920 px wide.

queries.py reads the marts, figures.py draws the charts, verdict.py writes
the verdict, glossary.py the words, page.py fills the templates page.html
and section.html (one per pipeline) with them and the tables.

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
