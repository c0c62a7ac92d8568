"""The pipeline dashboard: one self-contained HTML page built from the
published marts, written next to the warehouse (warehouse/pipeline.duckdb ->
warehouse/pipeline_report.html). Plotly's JavaScript is embedded in the page,
so it opens from disk with no network.

It shows the funnel (each stage's conversion rate against its benchmark and
its diagnosis in plain words), the leads the next target month needs against
the leads in each stage, dwell-time distributions with the expected-days
threshold, old leads by rep and the reps' to-do list (sortable tables), the
daily history of conversion per stage, and the win rate, weighted pipeline
and coverage. It reads the marts only: every number is the mart's.

Command line, as `make report` runs it:
    python -m orchestration.dashboard --warehouse warehouse/pipeline.duckdb [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

# The marts the page reads (its lineage: the Dagster asset's and the exposure's).
MARTS_READ = [
    "dim_stages",
    "fct_stage_conversion",
    "fct_stage_conversion_daily",
    "fct_pipeline_plan",
    "fct_lead_stage_visits",
    "rpt_old_leads",
    "fct_win_rates",
    "fct_pipeline_value",
]
# The to-do list shows the longest-overdue leads first, up to this many.
TODO_LIMIT = 1000
# Dwell histograms reach this many times the expected days; longer visits
# share the last bin.
DWELL_RANGE_FACTOR = 3
DWELL_BINS = 30
DIAGNOSIS_COLOURS = {
    "healthy": "#2a9d8f",
    "below_benchmark": "#e9c46a",
    "bandwidth": "#e76f51",
    "standards_too_strict": "#8d6cab",
    None: "#9e9e9e",
}
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def dashboard_path(warehouse: Path) -> Path:
    """Where the page goes: beside the warehouse file, named after it."""
    return warehouse.with_name(f"{warehouse.stem}_report.html")


@dataclass
class Rows:
    columns: list[str]
    rows: list[dict[str, object]]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def read(connection: duckdb.DuckDBPyConnection, sql: str, *params: object) -> Rows:
    cursor = connection.execute(sql, list(params))
    columns = [column[0] for column in cursor.description]
    return Rows(columns, [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])


@dataclass
class DashboardData:
    """What the page shows, read from the marts in one read-only connection."""

    as_of_date: dt.date | None
    stages: Rows
    plan: Rows
    target_month: dt.date | None
    dwell_bins: Rows
    reps: Rows
    todo: Rows
    old_lead_count: int
    history: Rows
    win: dict[str, object] | None
    pipeline_stages: Rows
    pipeline_total: dict[str, object] | None


def read_dashboard_data(connection: duckdb.DuckDBPyConnection) -> DashboardData:
    stages = read(
        connection,
        """
        select c.*, d.stage_name
        from marts.fct_stage_conversion as c
        inner join marts.dim_stages as d on c.stage_key = d.stage_key
        order by c.stage_order
        """,
    )
    as_of_date = stages.rows[0]["as_of_date"] if stages.rows else None
    pipeline_total_rows = read(
        connection, "select * from marts.fct_pipeline_value where stage_key is null"
    ).rows
    pipeline_total = pipeline_total_rows[0] if pipeline_total_rows else None
    # The next target month: the first after the as-of date (fct_pipeline_value's).
    target_month = pipeline_total["target_month"] if pipeline_total else None
    plan = read(
        connection,
        "select * from marts.fct_pipeline_plan where target_month = ? order by stage_order",
        target_month,
    )
    dwell_bins = read(
        connection,
        f"""
        with visits as (
            select
                v.stage_key,
                c.stage_order,
                c.expected_days_to_convert,
                v.exit_type = 'open' as still_in_stage,
                coalesce(v.dwell_days, v.days_in_stage) as days
            from marts.fct_lead_stage_visits as v
            inner join marts.fct_stage_conversion as c on v.stage_key = c.stage_key
        ),
        sized as (
            select
                *,
                greatest(
                    1,
                    ceil(
                        coalesce(expected_days_to_convert, 30) * {DWELL_RANGE_FACTOR}
                        / {DWELL_BINS}
                    )
                ) as bin_days
            from visits
            where days is not null
        )
        select
            stage_key,
            stage_order,
            expected_days_to_convert,
            still_in_stage,
            least(floor(days / bin_days), {DWELL_BINS}) * bin_days as bin_start,
            any_value(bin_days) as bin_days,
            count(*) as visits
        from sized
        group by all
        order by stage_order, still_in_stage, bin_start
        """,
    )
    reps = read(
        connection,
        """
        select
            coalesce(owner_id, '(no owner)') as owner,
            count(*) as old_leads,
            round(avg(days_overdue), 1) as avg_days_overdue,
            round(max(days_overdue), 1) as max_days_overdue
        from marts.rpt_old_leads
        group by all
        order by old_leads desc, owner
        """,
    )
    todo = read(
        connection,
        f"""
        select
            o.lead_id,
            coalesce(o.owner_id, '(no owner)') as owner,
            d.stage_name,
            cast(o.entered_at as date) as entered,
            round(o.days_in_stage, 1) as days_in_stage,
            round(o.expected_days_to_convert, 1) as expected_days,
            round(o.days_overdue, 1) as days_overdue,
            o.lead_source,
            o.segment
        from marts.rpt_old_leads as o
        inner join marts.dim_stages as d on o.stage_key = d.stage_key
        order by o.days_overdue desc, o.lead_id
        limit {TODO_LIMIT}
        """,
    )
    old_lead_count = connection.execute("select count(*) from marts.rpt_old_leads").fetchone()[0]
    # A Dagster refresh leaves the history to its own job: until that job
    # first runs, the table does not exist and the page says so.
    history_exists = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'fct_stage_conversion_daily'"
    ).fetchone()[0]
    history = read(
        connection,
        """
        select h.as_of_date, h.stage_key, d.stage_name, h.stage_order, h.conversion_rate
        from marts.fct_stage_conversion_daily as h
        inner join marts.dim_stages as d on h.stage_key = d.stage_key
        order by h.stage_order, h.as_of_date
        """
        if history_exists
        else "select null as as_of_date where false",
    )
    win_rows = read(connection, "select * from marts.fct_win_rates where dimension = 'overall'")
    pipeline_stages = read(
        connection,
        """
        select p.*, d.stage_name
        from marts.fct_pipeline_value as p
        inner join marts.dim_stages as d on p.stage_key = d.stage_key
        order by p.stage_order
        """,
    )
    return DashboardData(
        as_of_date=as_of_date,
        stages=stages,
        plan=plan,
        target_month=target_month,
        dwell_bins=dwell_bins,
        reps=reps,
        todo=todo,
        old_lead_count=old_lead_count,
        history=history,
        win=win_rows.rows[0] if win_rows.rows else None,
        pipeline_stages=pipeline_stages,
        pipeline_total=pipeline_total,
    )


# Formatting: one function per kind of number, used by the charts' labels
# and the tables alike.
def percent(value: object) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"


def count(value: object) -> str:
    return "-" if value is None else f"{int(value):,}"


def usd(value: object) -> str:
    return "-" if value is None else f"${float(value):,.0f}"


def days(value: object) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def times(value: object) -> str:
    return "-" if value is None else f"{float(value):.2f}x"


def diagnosis_words(stage: dict[str, object]) -> str:
    """The diagnosis of fct_stage_conversion in a sentence a sales leader reads."""
    rate, bench = stage["conversion_rate"], stage["benchmark_conversion_rate"]
    share = percent(stage["old_lead_share"])
    diagnosis = stage["diagnosis"]
    if diagnosis == "healthy":
        return f"Healthy: converts {percent(rate)}, at or above the {percent(bench)} benchmark."
    if diagnosis == "bandwidth":
        return (
            f"Bandwidth problem: converts {percent(rate)} against a {percent(bench)} benchmark "
            f"and {share} of its leads are old. The team cannot work every lead."
        )
    if diagnosis == "standards_too_strict":
        return (
            f"Standards may be too strict: converts {percent(rate)} against a {percent(bench)} "
            f"benchmark with almost no old leads ({share}). Leads are disqualified fast."
        )
    if diagnosis == "below_benchmark":
        return (
            f"Below benchmark: converts {percent(rate)} against {percent(bench)}; old leads "
            f"({share}) point to neither bandwidth nor strict standards."
        )
    return "No diagnosis: the stage has no conversion rate or no benchmark yet."


def figure_html(figure: go.Figure, chart_id: str, first: bool) -> str:
    figure.update_layout(
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        height=380,
        legend={"orientation": "h", "y": -0.2},
    )
    return pio.to_html(
        figure,
        include_plotlyjs=first,  # the library once, inside the page
        full_html=False,
        div_id=chart_id,
        config=PLOTLY_CONFIG,
    )


def funnel_figure(data: DashboardData) -> go.Figure:
    names = [stage["stage_name"] for stage in data.stages]
    figure = go.Figure()
    figure.add_bar(
        name="Conversion rate",
        x=names,
        y=[stage["conversion_rate"] for stage in data.stages],
        marker_color=[DIAGNOSIS_COLOURS.get(stage["diagnosis"]) for stage in data.stages],
        text=[percent(stage["conversion_rate"]) for stage in data.stages],
        textposition="outside",
        customdata=[stage["diagnosis"] or "none" for stage in data.stages],
        hovertemplate="%{x}: %{y:.1%} (%{customdata})<extra></extra>",
    )
    figure.add_scatter(
        name="Benchmark",
        x=names,
        y=[stage["benchmark_conversion_rate"] for stage in data.stages],
        mode="markers",
        marker={"symbol": "line-ew-open", "size": 40, "line": {"width": 3}, "color": "#264653"},
        hovertemplate="%{x} benchmark: %{y:.1%}<extra></extra>",
    )
    figure.update_layout(
        title={"text": "Conversion rate by stage, against its benchmark"},
        yaxis={"tickformat": ".0%", "rangemode": "tozero"},
    )
    return figure


def plan_figure(data: DashboardData) -> go.Figure:
    names = [row["stage_key"] for row in data.plan]
    stage_names = {stage["stage_key"]: stage["stage_name"] for stage in data.stages}
    labels = [stage_names.get(key, key) for key in names]
    figure = go.Figure()
    figure.add_bar(
        name="Leads needed",
        x=labels,
        y=[row["leads_needed"] for row in data.plan],
        marker_color="#264653",
    )
    figure.add_bar(
        name="Leads in stage",
        x=labels,
        y=[row["leads_in_stage"] for row in data.plan],
        marker_color="#2a9d8f",
    )
    month = f"{data.target_month:%B %Y}" if data.target_month else "no target month"
    figure.update_layout(title={"text": f"Leads needed for {month} vs leads in stage"})
    return figure


def dwell_figure(data: DashboardData) -> go.Figure:
    stage_keys = [stage["stage_key"] for stage in data.stages]
    titles = [stage["stage_name"] for stage in data.stages]
    figure = make_subplots(rows=1, cols=max(len(stage_keys), 1), subplot_titles=titles)
    for column, stage in enumerate(data.stages, start=1):
        bins = [row for row in data.dwell_bins if row["stage_key"] == stage["stage_key"]]
        for still_in_stage, name, colour in (
            (False, "Visits that left the stage (dwell days)", "#2a9d8f"),
            (True, "Leads still in the stage (days so far)", "#e76f51"),
        ):
            part = [row for row in bins if row["still_in_stage"] == still_in_stage]
            figure.add_bar(
                x=[float(row["bin_start"]) + float(row["bin_days"]) / 2 for row in part],
                y=[row["visits"] for row in part],
                width=[float(row["bin_days"]) for row in part],
                name=name,
                marker_color=colour,
                legendgroup=name,
                showlegend=column == 1,
                hovertemplate="%{x:.0f} days: %{y} visits<extra></extra>",
                row=1,
                col=column,
            )
        threshold = stage["expected_days_to_convert"]
        if threshold is not None:
            figure.add_vline(
                x=float(threshold),
                line={"dash": "dash", "color": "#264653"},
                annotation_text=f"expected {days(threshold)} d",
                annotation_position="top right",
                row=1,
                col=column,
            )
    figure.update_layout(
        barmode="stack",
        title={"text": "Dwell days per stage; dashed: expected days to convert (old beyond it)"},
    )
    return figure


def history_figure(data: DashboardData) -> go.Figure:
    figure = go.Figure()
    for stage in data.stages:
        points = [row for row in data.history if row["stage_key"] == stage["stage_key"]]
        figure.add_scatter(
            name=stage["stage_name"],
            x=[row["as_of_date"] for row in points],
            y=[row["conversion_rate"] for row in points],
            mode="lines+markers",
        )
    dates = sorted({row["as_of_date"] for row in data.history})
    xaxis: dict[str, object] = {"type": "date", "tickformat": "%b %d, %Y"}
    if len(dates) == 1:  # one recorded day: a week around it, not a sub-second axis
        xaxis["range"] = [dates[0] - dt.timedelta(days=3), dates[0] + dt.timedelta(days=3)]
    figure.update_layout(
        title={"text": "Conversion rate per stage, day by day (fct_stage_conversion_daily)"},
        yaxis={"tickformat": ".0%"},
        xaxis=xaxis,
    )
    return figure


def pipeline_figure(data: DashboardData) -> go.Figure:
    names = [row["stage_name"] for row in data.pipeline_stages]
    figure = go.Figure()
    for column, label, colour in (
        ("pipeline_usd", "Pipeline, not old", "#2a9d8f"),
        ("weighted_pipeline_usd", "Weighted by win probability", "#264653"),
        ("old_pipeline_usd", "Old leads (apart)", "#e76f51"),
    ):
        figure.add_bar(
            name=label,
            x=names,
            y=[row[column] for row in data.pipeline_stages],
            marker_color=colour,
            hovertemplate="%{x}: $%{y:,.0f}<extra></extra>",
        )
    figure.update_layout(title={"text": "Open pipeline by stage (USD)"}, yaxis={"tickprefix": "$"})
    return figure


def table_html(
    table_id: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[tuple[str, object]]],
    sortable: bool = False,
) -> str:
    """rows: per row, (shown text, sort key) per cell; the raw value rides
    along in data-value so a test or a script reads the exact number."""
    head = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-value="{html.escape("" if value is None else str(value))}">'
            f"{html.escape(text)}</td>"
            for text, value in row
        )
        + "</tr>"
        for row in rows
    )
    css = ' class="sortable"' if sortable else ""
    return (
        f'<table id="{table_id}"{css}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def stage_table(data: DashboardData) -> str:
    headers = ["Stage", "Entered", "Advanced", "Completed", "Old", "In window", "CR", "Benchmark"]
    headers += ["Expected days", "Diagnosis"]
    rows = []
    for stage in data.stages:
        rows.append(
            [
                (stage["stage_name"], stage["stage_key"]),
                (count(stage["leads_entered"]), stage["leads_entered"]),
                (count(stage["leads_advanced"]), stage["leads_advanced"]),
                (count(stage["leads_completed"]), stage["leads_completed"]),
                (count(stage["leads_old"]), stage["leads_old"]),
                (count(stage["leads_in_window"]), stage["leads_in_window"]),
                (percent(stage["conversion_rate"]), stage["conversion_rate"]),
                (percent(stage["benchmark_conversion_rate"]), stage["benchmark_conversion_rate"]),
                (days(stage["expected_days_to_convert"]), stage["expected_days_to_convert"]),
                (diagnosis_words(stage), stage["diagnosis"]),
            ]
        )
    return table_html("stage-table", headers, rows)


def rep_table(data: DashboardData) -> str:
    rows = [
        [
            (rep["owner"], rep["owner"]),
            (count(rep["old_leads"]), rep["old_leads"]),
            (days(rep["avg_days_overdue"]), rep["avg_days_overdue"]),
            (days(rep["max_days_overdue"]), rep["max_days_overdue"]),
        ]
        for rep in data.reps
    ]
    headers = ["Rep", "Old leads", "Avg days overdue", "Max days overdue"]
    return table_html("rep-table", headers, rows, sortable=True)


def todo_table(data: DashboardData) -> str:
    rows = [
        [
            (lead["lead_id"], lead["lead_id"]),
            (lead["owner"], lead["owner"]),
            (lead["stage_name"], lead["stage_name"]),
            (str(lead["entered"]), lead["entered"]),
            (days(lead["days_in_stage"]), lead["days_in_stage"]),
            (days(lead["expected_days"]), lead["expected_days"]),
            (days(lead["days_overdue"]), lead["days_overdue"]),
            (lead["lead_source"] or "-", lead["lead_source"]),
            (lead["segment"] or "-", lead["segment"]),
        ]
        for lead in data.todo
    ]
    headers = ["Lead", "Rep", "Stage", "Entered", "Days in stage", "Expected days"]
    headers += ["Days overdue", "Source", "Segment"]
    return table_html("todo-table", headers, rows, sortable=True)


def kpi_cards(data: DashboardData) -> str:
    win, total = data.win or {}, data.pipeline_total or {}
    month = f"{total['target_month']:%B %Y}" if total.get("target_month") else "no target month"
    cards = [
        ("win_rate", "Win rate", percent(win.get("win_rate")),
         f"{count(win.get('leads_won'))} won of {count(win.get('leads_decided'))} decided"),
        ("avg_won_deal_usd", "Average won deal", usd(win.get("avg_won_deal_usd")),
         f"sales cycle {days(win.get('avg_sales_cycle_days'))} days "
         f"(median {days(win.get('median_sales_cycle_days'))})"),
        ("weighted_pipeline_usd", "Weighted pipeline", usd(total.get("weighted_pipeline_usd")),
         f"of {usd(total.get('pipeline_usd'))} in {count(total.get('leads_open'))} leads not old"),
        ("coverage_ratio", "Coverage", times(total.get("coverage_ratio")),
         f"of {month}'s target {usd(total.get('revenue_target_usd'))}"),
        ("weighted_coverage_ratio", "Weighted coverage",
         times(total.get("weighted_coverage_ratio")), "weighted pipeline over the same target"),
        ("pipeline_velocity_usd_per_day", "Pipeline velocity",
         usd(total.get("pipeline_velocity_usd_per_day")) + " / day",
         "open leads x win rate x average deal / cycle"),
        ("old_leads", "Old leads", count(data.old_lead_count),
         f"holding {usd(total.get('old_pipeline_usd'))}, kept out of the pipeline"),
    ]  # fmt: skip
    return "".join(
        f'<div class="card" data-metric="{key}"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="note">{html.escape(note)}</div></div>'
        for key, label, value, note in cards
    )


def chart_or_note(
    figure: go.Figure, chart_id: str, has_data: bool, empty_note: str, first: bool
) -> str:
    """A chart with data, or a sentence saying why there is none (never an empty chart)."""
    if has_data:
        return figure_html(figure, chart_id, first)
    return f'<p class="empty" id="{chart_id}">{html.escape(empty_note)}</p>'


SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (header, column) {
    header.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.from(body.rows);
      var ascending = header.dataset.order !== 'asc';
      table.querySelectorAll('th').forEach(function (h) { delete h.dataset.order; });
      header.dataset.order = ascending ? 'asc' : 'desc';
      function key(row) {
        var raw = row.cells[column].dataset.value;
        return /^-?[0-9]+([.][0-9]+)?(e-?[0-9]+)?$/.test(raw) ? Number(raw) : raw;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = (typeof x === 'number' && typeof y === 'number')
          ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { margin-bottom: 4px; } h2 { margin-top: 32px; }
.sub { color: #555; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px;
        min-width: 180px; }
.card .label { color: #555; font-size: 0.85em; } .card .value { font-size: 1.6em; }
.card .note { color: #777; font-size: 0.8em; }
.chart { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 12px 0; }
table { border-collapse: collapse; background: #fff; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
td:first-child, th:first-child, #stage-table td:last-child { text-align: left; }
table.sortable th { cursor: pointer; background: #f0f0f0; }
th[data-order=asc]::after { content: " ▲"; } th[data-order=desc]::after { content: " ▼"; }
.scroll { max-height: 480px; overflow-y: auto; display: inline-block; }
.empty { color: #777; font-style: italic; }
"""


def render(data: DashboardData, warehouse_name: str) -> str:
    as_of = data.as_of_date.isoformat() if data.as_of_date else "no data"
    charts = [
        (funnel_figure(data), "chart-funnel", bool(data.stages), "No stage has leads yet."),
        (
            plan_figure(data),
            "chart-plan",
            bool(data.plan),
            "No revenue target month after the as-of date: add one to revenue_targets.",
        ),
        (dwell_figure(data), "chart-dwell", bool(data.dwell_bins), "No stage visits yet."),
        (
            history_figure(data),
            "chart-history",
            bool(data.history),
            "No history recorded yet: the Dagster job record_stage_conversion_history "
            "adds a day to fct_stage_conversion_daily per partition.",
        ),
        (pipeline_figure(data), "chart-pipeline", bool(data.pipeline_stages), "No open pipeline."),
    ]
    parts: dict[str, str] = {}
    first = True
    for figure, chart_id, has_data, note in charts:
        parts[chart_id] = chart_or_note(figure, chart_id, has_data, note, first)
        first = first and not has_data
    shown = min(len(data.todo), data.old_lead_count)
    todo_note = (
        f"All {count(data.old_lead_count)} old leads, longest overdue first."
        if shown == data.old_lead_count
        else f"The {count(shown)} longest overdue of {count(data.old_lead_count)} old leads "
        "(all of them: marts.rpt_old_leads)."
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sales pipeline as of {html.escape(as_of)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Sales pipeline as of {html.escape(as_of)}</h1>
<p class="sub">From the marts of {html.escape(warehouse_name)}; click a table's header to sort.</p>
<div class="cards">{kpi_cards(data)}</div>
<h2>Funnel: conversion against benchmark</h2>
<div class="chart">{parts["chart-funnel"]}</div>
{stage_table(data)}
<h2>Next month's plan</h2>
<div class="chart">{parts["chart-plan"]}</div>
<h2>Time in stage</h2>
<div class="chart">{parts["chart-dwell"]}</div>
<h2>Old leads by rep</h2>
{rep_table(data)}
<h2>The reps' to-do list</h2>
<p class="sub">{html.escape(todo_note)}</p>
<div class="scroll">{todo_table(data)}</div>
<h2>Conversion history</h2>
<div class="chart">{parts["chart-history"]}</div>
<h2>Pipeline value</h2>
<div class="chart">{parts["chart-pipeline"]}</div>
<script>{SORT_SCRIPT}</script>
</body>
</html>
"""


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


if __name__ == "__main__":
    sys.exit(main())
