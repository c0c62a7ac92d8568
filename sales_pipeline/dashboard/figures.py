"""The dashboard's Plotly charts, one function per chart, each from the
data the queries read; figure_html writes one into the page."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from sales_pipeline.dashboard.formats import CURRENCY_SYMBOLS, days, percent
from sales_pipeline.dashboard.queries import FORECAST_METHODS, PipelineData

DIAGNOSIS_COLOURS = {
    "healthy": "#2a9d8f",
    "below_benchmark": "#e9c46a",
    "bandwidth": "#e76f51",
    "standards_too_strict": "#8d6cab",
    None: "#9e9e9e",
}
# Charts follow their box's width (responsive); the mode bar without the
# selection tools, which select nothing here.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
# The forecast methods in words (fct_forecast_backtest's forecast_method),
# and how the forecast chart draws each: the model's line stands out.
FORECAST_METHOD_WORDS = {
    "model": "This forecast",
    "weighted_pipeline": "Weighted pipeline",
    "last_3_months_average": "Last 3 months' average",
}
FORECAST_METHOD_LINES = {
    "model": {"color": "#264653", "width": 4},
    "weighted_pipeline": {"color": "#e9c46a", "width": 2, "dash": "dash"},
    "last_3_months_average": {"color": "#9e9e9e", "width": 2, "dash": "dot"},
}


def figure_html(figure: go.Figure, chart_id: str) -> str:
    """A chart's div and its script; Plotly's library is in the page once
    (page.py's render), before every chart."""
    # Subplots' titles (time in stage) sit above their plots: room for them
    # below the chart's title.
    above = any(
        note.yref == "paper" and note.yanchor == "bottom" and (note.y or 0) >= 1
        for note in figure.layout.annotations
    )
    figure.update_layout(
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 80 if above else 60, "b": 50},
        # At the bottom, below the tick labels however many rows each takes.
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
    )
    # A bar's figure written above it stays whole at the top of the plot.
    figure.update_traces(
        cliponaxis=False, selector=lambda trace: trace.type in ("bar", "waterfall")
    )
    return pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=chart_id,
        config=PLOTLY_CONFIG,
        # No height in the layout: the box's, page.html's --chart-height
        # (taller on a phone, where the legend takes more rows).
        default_height="var(--chart-height, 380px)",
    )


def funnel_figure(data: PipelineData) -> go.Figure:
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


def plan_figure(data: PipelineData) -> go.Figure:
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


def dwell_figure(data: PipelineData) -> go.Figure:
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
        title={"text": "Days spent in each stage; dashed: the expected days (stalled beyond it)"},
    )
    return figure


def history_figure(data: PipelineData) -> go.Figure:
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


def movement_figure(data: PipelineData) -> go.Figure:
    """The open leads' waterfall over the shortest movement window: at its
    start, plus the new and reopened, minus the won and lost, at its end."""
    moved = data.movement or {}
    steps = [
        ("absolute", f"Open on {moved.get('from_date')}", moved.get("at_start")),
        ("relative", "New", moved.get("new")),
        ("relative", "Reopened", moved.get("reopened")),
        ("relative", "Won", -(moved.get("won") or 0)),
        ("relative", "Lost", -(moved.get("lost") or 0)),
        ("total", f"Open on {moved.get('to_date')}", moved.get("at_end")),
    ]
    figure = go.Figure(
        go.Waterfall(
            measure=[measure for measure, _, _ in steps],
            x=[label for _, label, _ in steps],
            y=[value for _, _, value in steps],
            text=[
                f"{value:+,}" if measure == "relative" else f"{value:,}"
                for measure, _, value in steps
            ],
            connector={"line": {"color": "#999999"}},
            increasing={"marker": {"color": "#2a9d8f"}},
            decreasing={"marker": {"color": "#e76f51"}},
            totals={"marker": {"color": "#264653"}},
        )
    )
    figure.update_layout(
        title={
            "text": f"Open leads over the last {moved.get('window_days')} days "
            f"({moved.get('became_old')} stalled; fct_pipeline_movement)"
        },
        showlegend=False,
    )
    return figure


def forecast_month_label(row: dict[str, object]) -> str:
    """A forecast month on the axis; month 1 of a mid-month as-of date is
    the rest of its month (docs/metrics.md section 17)."""
    month = row["forecast_month"]
    rest = row["months_ahead"] == 1 and month <= row["as_of_date"]
    return f"rest of {month:%b %Y}" if rest else f"{month:%b %Y}"


def forecast_figure(data: PipelineData) -> go.Figure:
    """A month ahead, the past months' wins (bars) against each method's
    forecast (lines, the model's emphasised), then the coming months'
    forecast, its open pipeline and its new leads stacked. In the reporting
    currency, or in deals when no row has an amount."""
    forecast = data.forecast
    unit = "amount" if forecast.amounts else "deals"
    if forecast.amounts:  # the reporting currency's symbol before, or its code after
        symbol = CURRENCY_SYMBOLS.get(data.currency)
        prefix, suffix = (symbol, "") if symbol else ("", f" {data.currency}")
    else:
        prefix, suffix = "", " deals"
    value = f"{prefix}%{{y:,.{0 if forecast.amounts else 1}f}}{suffix}"
    past = [f"{row['forecast_month']:%b %Y}" for row in forecast.backtest]
    coming = [forecast_month_label(row) for row in forecast.months]
    figure = go.Figure()
    if forecast.backtest:
        figure.add_bar(
            name="Won",
            x=past,
            y=[row[f"actual_won_{unit}"] for row in forecast.backtest],
            marker_color="#2a9d8f",
            hovertemplate=f"%{{x}} won: {value}<extra></extra>",
        )
    for method in FORECAST_METHODS if forecast.backtest else ():
        model = method == "model"
        figure.add_scatter(
            name=f"{FORECAST_METHOD_WORDS[method]}, a month before",
            x=past,
            y=[row[f"{method}_{unit}"] for row in forecast.backtest],
            mode="lines+markers",
            line=FORECAST_METHOD_LINES[method],
            marker={"size": 10 if model else 6},
            hovertemplate=f"%{{x}}, {FORECAST_METHOD_WORDS[method].lower()}: "
            f"{value}<extra></extra>",
        )
    sources = (
        ("open_pipeline", "Forecast: open pipeline", "#8d6cab"),
        ("new_leads", "Forecast: new leads", "#c9b3e0"),
    )
    for source, name, colour in sources if forecast.months else ():
        figure.add_bar(
            name=name,
            x=coming,
            y=[row[f"{source}_{unit}"] for row in forecast.months],
            marker_color=colour,
            hovertemplate=f"%{{x}} {name.lower()}: {value}<extra></extra>",
        )
    title = (
        f"Won amount per month ({data.currency}) and its forecast a month before; "
        "then the next months' forecast"
        if forecast.amounts
        else "Won deals per month (the data has no amounts) and their forecast a month "
        "before; then the next months' forecast"
    )
    figure.update_layout(
        barmode="stack",
        title={"text": title},
        legend={"traceorder": "normal"},  # as drawn, not stacked bars reversed
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": past + coming},
        yaxis={"tickprefix": prefix, "ticksuffix": suffix, "rangemode": "tozero"},
    )
    return figure


def pipeline_figure(data: PipelineData) -> go.Figure:
    names = [row["stage_name"] for row in data.pipeline_stages]
    # Amounts are in the reporting currency: its symbol before, or its code after.
    symbol = CURRENCY_SYMBOLS.get(data.currency)
    prefix, suffix = (symbol, "") if symbol else ("", f" {data.currency}")
    figure = go.Figure()
    for column, label, colour in (
        ("pipeline_usd", "Open pipeline, not stalled", "#2a9d8f"),
        ("weighted_pipeline_usd", "Weighted by win probability", "#264653"),
        ("old_pipeline_usd", "Stalled leads (kept apart)", "#e76f51"),
    ):
        figure.add_bar(
            name=label,
            x=names,
            y=[row[column] for row in data.pipeline_stages],
            marker_color=colour,
            hovertemplate=f"%{{x}}: {prefix}%{{y:,.0f}}{suffix}<extra></extra>",
        )
    figure.update_layout(
        title={"text": f"Open pipeline by stage ({data.currency})"},
        yaxis={"tickprefix": prefix, "ticksuffix": suffix},
    )
    return figure
