"""The dashboard page: its tables and key figures as HTML, and page.html
(the CSS, the table-sorting script and the layout) filled with them and the
charts, one section.html per pipeline. With several pipelines each section
opens with the pipeline's name and its element ids end in -1, -2, ...; with
one, the page has no pipeline heading and the plain ids. Both are
string.Templates: $name is a placeholder, $$ a dollar sign; every value put
in is HTML already (text escaped where it is made)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from string import Template

import plotly.graph_objects as go

from sales_pipeline.dashboard.figures import (
    FORECAST_METHOD_WORDS,
    dwell_figure,
    figure_html,
    forecast_figure,
    funnel_figure,
    history_figure,
    movement_figure,
    pipeline_figure,
    plan_figure,
)
from sales_pipeline.dashboard.formats import count, days, money, percent, times
from sales_pipeline.dashboard.queries import DashboardData, PipelineData

# Package data beside this module, so it is found wherever the package is.
PAGE = Template((Path(__file__).parent / "page.html").read_text(encoding="utf-8"))
SECTION = Template((Path(__file__).parent / "section.html").read_text(encoding="utf-8"))


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


def table_html(
    table_id: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[tuple[str, object]]],
    sortable: bool = False,
    suffix: str = "",
) -> str:
    """rows: per row, (shown text, sort key) per cell; the raw value rides
    along in data-value so a test or a script reads the exact number. The
    table's class is table_id; its id table_id + suffix (the section's)."""
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
    css = f"{table_id} sortable" if sortable else table_id
    return (
        f'<table id="{table_id}{suffix}" class="{css}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def stage_table(data: PipelineData, suffix: str = "") -> str:
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
    return table_html("stage-table", headers, rows, suffix=suffix)


def rep_table(data: PipelineData, suffix: str = "") -> str:
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
    return table_html("rep-table", headers, rows, sortable=True, suffix=suffix)


def todo_table(data: PipelineData, suffix: str = "") -> str:
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
    return table_html("todo-table", headers, rows, sortable=True, suffix=suffix)


# Why a pipeline has no past month to compare its forecast with.
NO_BACKTEST_MONTH = (
    "No past month to compare the forecast with yet: the history (var "
    "history_start) needs a whole month before the as-of date."
)


def forecast_table(data: PipelineData, suffix: str = "") -> str:
    """rpt_forecast_accuracy a month to three months ahead, a row per method."""
    rows = [
        [
            (FORECAST_METHOD_WORDS[row["forecast_method"]], row["forecast_method"]),
            (count(row["months_ahead"]), row["months_ahead"]),
            (count(row["months_compared"]), row["months_compared"]),
            (percent(row["mean_absolute_percentage_error"]), row["mean_absolute_percentage_error"]),
            (percent(row["bias"]), row["bias"]),
        ]
        for row in data.forecast.accuracy
    ]
    headers = ["Method", "Months ahead", "Months compared", "Mean error", "Bias"]
    return table_html("forecast-table", headers, rows, sortable=True, suffix=suffix)


def forecast_accuracy(data: PipelineData, suffix: str = "") -> str:
    """The accuracy table under a sentence saying what it shows, or why it
    shows nothing; without a past month, a sentence alone."""
    if not data.forecast.accuracy:
        return f'<p class="empty" id="forecast-table{suffix}">{html.escape(NO_BACKTEST_MONTH)}</p>'
    note = html.escape(forecast_note(data))
    return f'<p class="sub">{note}</p>\n{forecast_table(data, suffix)}'


def forecast_note(data: PipelineData) -> str:
    """What the accuracy table says, or why its errors are empty."""
    forecast = data.forecast
    if not forecast.amounts:
        return (
            "The past months cannot be compared: the error is of the won amount, and "
            "the data has no amounts (rpt_forecast_accuracy)."
        )
    if not any(row["months_compared"] for row in forecast.accuracy):
        return (
            "No past month had a win to compare the forecasts with yet "
            "(rpt_forecast_accuracy compares the months with a won amount)."
        )
    return (
        "How far each forecast of the won amount was off, made one to three months "
        "before, over the past months with a win (rpt_forecast_accuracy): mean error is "
        "the mean absolute percentage error; bias above 0 means it forecasts too much."
    )


def kpi_cards(data: PipelineData) -> str:
    win, total = data.win or {}, data.pipeline_total or {}

    def usd(value: object) -> str:  # the _usd columns, in the reporting currency
        return money(value, data.currency)

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


def render(data: DashboardData, warehouse_name: str) -> str:
    as_of = data.as_of_date.isoformat() if data.as_of_date else "no data"
    several = len(data.pipelines) > 1
    state = {"first": True}  # Plotly's library goes into the first chart drawn
    sections = [
        section_html(pipeline, f"-{number}" if several else "", several, state)
        for number, pipeline in enumerate(data.pipelines, start=1)
    ]
    if not sections:
        body = '<p class="empty">No stages configured: dim_stages is empty.</p>'
    elif several:
        links = "".join(
            f'<a href="#pipeline-{number}">{html.escape(pipeline.pipeline_name)}</a>'
            for number, pipeline in enumerate(data.pipelines, start=1)
        )
        body = f'<nav class="pipelines">Pipelines: {links}</nav>\n' + "\n".join(
            f'<section class="pipeline" id="pipeline-{number}" '
            f'data-pipeline-id="{html.escape(pipeline.pipeline_id)}">\n{section}</section>'
            for number, (pipeline, section) in enumerate(
                zip(data.pipelines, sections, strict=True), start=1
            )
        )
    else:
        body = sections[0]
    return PAGE.substitute(
        as_of=html.escape(as_of), warehouse=html.escape(warehouse_name), sections=body
    )


def section_html(data: PipelineData, suffix: str, heading: bool, state: dict[str, bool]) -> str:
    """One pipeline's cards, charts and tables; element ids end in suffix."""
    charts = [
        (funnel_figure(data), "chart-funnel", bool(data.stages), "No stage has leads yet."),
        (
            plan_figure(data),
            "chart-plan",
            bool(data.plan),
            "No revenue target for a month after the as-of date: add one to "
            "revenue_targets.csv in config_path (a build on a CRM's tables reads "
            "none of the demo's).",
        ),
        (dwell_figure(data), "chart-dwell", bool(data.dwell_bins), "No stage visits yet."),
        (
            history_figure(data),
            "chart-history",
            bool(data.history),
            "No history: fct_stage_conversion_daily has no day (no stage change yet).",
        ),
        (pipeline_figure(data), "chart-pipeline", bool(data.pipeline_stages), "No open pipeline."),
        (
            movement_figure(data),
            "chart-movement",
            bool(data.movement),
            "Nothing moved: no lead was in or entered an open stage in the window.",
        ),
        (
            forecast_figure(data),
            "chart-forecast",
            bool(data.forecast.months or data.forecast.backtest),
            "Nothing to forecast: no lead is open, none was created in the last three "
            "months, and no past month can be compared yet (the history, var "
            "history_start, needs a whole month before the as-of date).",
        ),
    ]
    parts: dict[str, str] = {}
    for figure, chart_id, has_data, note in charts:
        parts[chart_id] = chart_or_note(figure, chart_id + suffix, has_data, note, state["first"])
        state["first"] = state["first"] and not has_data
    shown = min(len(data.todo), data.old_lead_count)
    todo_note = (
        f"All {count(data.old_lead_count)} old leads, longest overdue first."
        if shown == data.old_lead_count
        else f"The {count(shown)} longest overdue of {count(data.old_lead_count)} old leads "
        "(all of them: marts.rpt_old_leads)."
    )
    return SECTION.substitute(
        heading=f"<h2>{html.escape(data.pipeline_name)}</h2>" if heading else "",
        h="h3" if heading else "h2",
        cards=kpi_cards(data),
        chart_funnel=parts["chart-funnel"],
        stage_table=stage_table(data, suffix),
        chart_plan=parts["chart-plan"],
        chart_dwell=parts["chart-dwell"],
        rep_table=rep_table(data, suffix),
        todo_note=html.escape(todo_note),
        todo_table=todo_table(data, suffix),
        chart_history=parts["chart-history"],
        chart_pipeline=parts["chart-pipeline"],
        chart_movement=parts["chart-movement"],
        chart_forecast=parts["chart-forecast"],
        forecast_accuracy=forecast_accuracy(data, suffix),
    )
