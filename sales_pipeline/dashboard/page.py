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
from plotly.offline import get_plotlyjs

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
from sales_pipeline.dashboard.glossary import Glossary
from sales_pipeline.dashboard.queries import DashboardData, PipelineData
from sales_pipeline.dashboard.verdict import verdict_html

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
            f"and {share} of its leads have stalled. The team cannot work every lead."
        )
    if diagnosis == "standards_too_strict":
        return (
            f"Standards may be too strict: converts {percent(rate)} against a {percent(bench)} "
            f"benchmark with almost no stalled leads ({share}). Leads are disqualified fast."
        )
    if diagnosis == "below_benchmark":
        return (
            f"Below benchmark: converts {percent(rate)} against {percent(bench)}; stalled leads "
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
    table's class is table_id; its id table_id + suffix (the section's).
    headers are HTML: each a glossary label (Glossary.label)."""
    head = "".join(f"<th>{header}</th>" for header in headers)
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
    # In a box that scrolls sideways: a wide table never widens the page.
    return (
        f'<div class="table-scroll"><table id="{table_id}{suffix}" class="{css}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def stage_table(data: PipelineData, glossary: Glossary, suffix: str = "") -> str:
    terms = ["stage", "leads_entered", "leads_advanced", "leads_completed", "leads_old"]
    terms += ["leads_in_window", "conversion_rate", "benchmark", "expected_days", "diagnosis"]
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
    headers = [glossary.label(term) for term in terms]
    return table_html("stage-table", headers, rows, suffix=suffix)


# Each dimension's table: its id, its glossary term, and why it can be empty.
DIMENSION_TABLES = {
    "owner_id": ("rep-table", "rep", "No lead has an owner: the export's owner_id is blank."),
    "lead_source": (
        "source-table",
        "lead_source",
        "No lead has a source: the export's lead_source is blank (a CRM adapter fills it "
        "from the CRM's lead source field).",
    ),
    "segment": (
        "segment-table",
        "segment",
        "No lead has a segment: the export's segment is blank (a CRM adapter fills it "
        "from the account's size or type).",
    ),
}


def dimension_table(data: PipelineData, glossary: Glossary, dimension: str, suffix: str) -> str:
    """Per rep, source or segment: won and decided leads, win rate, average
    won deal, each stage's conversion, stalled and open leads, open pipeline."""
    table_id, term, empty = DIMENSION_TABLES[dimension]
    rows_in = data.dimensions[dimension]
    if not rows_in:
        return f'<p class="empty" id="{table_id}{suffix}">{html.escape(empty)}</p>'
    rows = [
        [
            (row["dimension_value"] or "(none)", row["dimension_value"]),
            (count(row["leads_won"]), row["leads_won"]),
            (count(row["leads_decided"]), row["leads_decided"]),
            (percent(row["win_rate"]), row["win_rate"]),
            (money(row["avg_won_deal_usd"] if data.has_amounts else None, data.currency),
             row["avg_won_deal_usd"]),
            *(
                (percent(row[f"conversion_{stage['stage_key']}"]),
                 row[f"conversion_{stage['stage_key']}"])
                for stage in data.stages
            ),
            (count(row["leads_old"]), row["leads_old"]),
            (count(row["leads_open"]), row["leads_open"]),
            (money(row["pipeline_amount"] if data.has_amounts else None, data.currency),
             row["pipeline_amount"]),
        ]
        for row in rows_in
    ]  # fmt: skip
    headers = [glossary.label(term)]
    headers += [
        glossary.label(term) for term in ("leads_won", "leads_decided", "win_rate", "avg_won_deal")
    ]
    headers += [
        glossary.label("dimension_conversion", f"{stage['stage_name']} conversion")
        for stage in data.stages
    ]
    headers += [glossary.label("dimension_stalled"), glossary.label("leads_open")]
    headers += [glossary.label("pipeline")]
    return table_html(table_id, headers, rows, sortable=True, suffix=suffix)


def todo_table(data: PipelineData, glossary: Glossary, likely_dead: bool, suffix: str = "") -> str:
    """The old leads worth a call now (likely_dead False), or those overdue by
    more than the var likely_dead_multiple times their expected days."""
    table_id = "dead-table" if likely_dead else "todo-table"
    leads = [lead for lead in data.todo if bool(lead["is_likely_dead"]) == likely_dead]
    if not leads:
        empty = (
            "No likely dead lead: every stalled lead is overdue by less than the var "
            "likely_dead_multiple times its stage's expected days."
            if likely_dead
            else "No lead to follow up: every open lead is within its stage's expected days, "
            "or stalled so long it is listed below as likely dead."
        )
        return f'<p class="empty" id="{table_id}{suffix}">{html.escape(empty)}</p>'
    rows = [
        [
            (lead["lead_id"], lead["lead_id"]),
            (lead["owner"], lead["owner"]),
            (lead["stage_name"], lead["stage_name"]),
            (str(lead["entered"]), lead["entered"]),
            (days(lead["days_in_stage"]), lead["days_in_stage"]),
            (days(lead["expected_days"]), lead["expected_days"]),
            (days(lead["days_overdue"]), lead["days_overdue"]),
            (money(lead["deal_amount_reporting"], data.currency), lead["deal_amount_reporting"]),
            (lead["lead_source"] or "-", lead["lead_source"]),
            (lead["segment"] or "-", lead["segment"]),
        ]
        for lead in leads
    ]
    terms = ["lead", "rep", "stage", "entered_at", "days_in_stage", "expected_days"]
    terms += ["days_overdue", "deal_amount", "lead_source", "segment"]
    headers = [glossary.label(term) for term in terms]
    table = table_html(table_id, headers, rows, sortable=True, suffix=suffix)
    return f'<div class="scroll">{table}</div>'


def todo_note(data: PipelineData, glossary: Glossary) -> str:
    """What the to-do lists hold (HTML)."""
    shown = min(len(data.todo), data.old_lead_count)
    dead = sum(1 for lead in data.todo if lead["is_likely_dead"])
    listed = (
        f"All {count(data.old_lead_count)} stalled leads"
        if shown == data.old_lead_count
        else f"{count(shown)} of {count(data.old_lead_count)} stalled leads (all of them: "
        "marts.rpt_old_leads)"
    )
    return (
        f"{html.escape(listed)}: first the {count(shown - dead)} a rep can still save, least "
        f"overdue first; then the {count(dead)} {glossary.label('likely_dead', 'likely dead')} "
        "ones, to close or revive."
    )


# Why a pipeline has no past month to compare its forecast with.
NO_BACKTEST_MONTH = (
    "No past month to compare the forecast with yet: the history (var "
    "history_start) needs a whole month before the as-of date."
)


def forecast_table(data: PipelineData, glossary: Glossary, suffix: str = "") -> str:
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
    terms = ["forecast_method", "months_ahead", "months_compared", "forecast_error"]
    headers = [glossary.label(term) for term in [*terms, "forecast_bias"]]
    return table_html("forecast-table", headers, rows, sortable=True, suffix=suffix)


def forecast_accuracy(data: PipelineData, glossary: Glossary, suffix: str = "") -> str:
    """The accuracy table under a sentence saying what it shows, or why it
    shows nothing; without a past month, a sentence alone."""
    if not data.forecast.accuracy:
        return f'<p class="empty" id="forecast-table{suffix}">{html.escape(NO_BACKTEST_MONTH)}</p>'
    note = html.escape(forecast_note(data))
    return f'<p class="sub">{note}</p>\n{forecast_table(data, glossary, suffix)}'


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


# Why an amount card shows a dash.
NO_AMOUNTS = "the export has no deal amounts (deal_amount_usd)"


def kpi_cards(data: PipelineData, glossary: Glossary) -> str:
    win, total = data.win or {}, data.pipeline_total or {}

    amounts = data.has_amounts

    def usd(value: object) -> str:  # the _usd columns, in the reporting currency
        return money(value if amounts else None, data.currency)

    month = f"{total['target_month']:%B %Y}" if total.get("target_month") else None
    no_target = (
        NO_AMOUNTS
        if not amounts
        else f"no revenue target for {month or 'a month after the as-of date'}: add one to "
        "revenue_targets.csv in config_path"
    )
    cards = [
        ("win_rate", "win_rate", percent(win.get("win_rate")),
         f"{count(win.get('leads_won'))} won of {count(win.get('leads_decided'))} decided"
         if win.get("leads_decided") else "no lead won or lost yet"),
        ("avg_won_deal_usd", "avg_won_deal", usd(win.get("avg_won_deal_usd")),
         f"sales cycle {days(win.get('avg_sales_cycle_days'))} days "
         f"(median {days(win.get('median_sales_cycle_days'))})"
         if win.get("avg_won_deal_usd") is not None
         else NO_AMOUNTS if not amounts else "no deal won yet"),
        ("weighted_pipeline_usd", "weighted_pipeline", usd(total.get("weighted_pipeline_usd")),
         f"of {usd(total.get('pipeline_usd'))} in {count(total.get('leads_open'))} open leads "
         "not stalled" if amounts else NO_AMOUNTS),
        ("coverage_ratio", "coverage", times(total.get("coverage_ratio")),
         f"the open pipeline over {month}'s target {usd(total.get('revenue_target_usd'))}"
         if total.get("coverage_ratio") is not None else no_target),
        ("weighted_coverage_ratio", "weighted_coverage",
         times(total.get("weighted_coverage_ratio")),
         "the weighted pipeline over the same target"
         if total.get("weighted_coverage_ratio") is not None else no_target),
        ("pipeline_velocity_usd_per_day", "velocity",
         usd(total.get("pipeline_velocity_usd_per_day")) + " / day",
         "open leads x win rate x average deal / sales cycle" if amounts else NO_AMOUNTS),
        ("old_leads", "leads_old", count(data.old_lead_count),
         f"holding {usd(total.get('old_pipeline_usd'))}, kept out of the pipeline"
         if amounts else "kept out of the pipeline"),
    ]  # fmt: skip
    labels = {"leads_old": "Stalled leads"}
    return "".join(
        f'<div class="card" data-metric="{key}">'
        f'<div class="label">{glossary.label(term, labels.get(term))}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="note">{html.escape(note)}</div></div>'
        for key, term, value, note in cards
    )


def chart_or_note(figure: go.Figure, chart_id: str, has_data: bool, empty_note: str) -> str:
    """A chart with data, or a sentence saying why there is none (never an empty chart)."""
    if has_data:
        return figure_html(figure, chart_id)
    return f'<p class="empty" id="{chart_id}">{html.escape(empty_note)}</p>'


def render(data: DashboardData, warehouse_name: str) -> str:
    as_of = data.as_of_date.isoformat() if data.as_of_date else "no data"
    several = len(data.pipelines) > 1
    glossary = Glossary(data.definitions)
    sections = [
        section_html(pipeline, glossary, f"-{number}" if several else "", several)
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
        as_of=html.escape(as_of),
        warehouse=html.escape(warehouse_name),
        sections=body,
        glossary=glossary.section(),
        # The library once, inside the page (it opens offline), before the charts.
        plotly=f'<script type="text/javascript">{get_plotlyjs()}</script>',
    )


def section_html(data: PipelineData, glossary: Glossary, suffix: str, heading: bool) -> str:
    """One pipeline's verdict, cards, charts and tables; element ids end in suffix."""
    amounts = data.has_amounts
    no_plan = (
        "No plan: the export has no deal amounts, and the plan divides the revenue target "
        "by the average won deal. Add the amount column (deal_amount_usd, or the CRM's amount "
        "field) and run make build."
        if not amounts
        else "No revenue target for a month after the as-of date: add one to "
        "revenue_targets.csv in config_path (a build on a CRM's tables reads none of the "
        "demo's) and run make build."
    )
    charts = [
        (funnel_figure(data), "chart-funnel", bool(data.stages), "No stage has leads yet."),
        (
            plan_figure(data),
            "chart-plan",
            any(row["leads_needed"] is not None for row in data.plan),
            no_plan,
        ),
        (dwell_figure(data), "chart-dwell", bool(data.dwell_bins), "No stage visits yet."),
        (
            history_figure(data),
            "chart-history",
            bool(data.history),
            "No history: fct_stage_conversion_daily has no day (no stage change yet).",
        ),
        (
            pipeline_figure(data),
            "chart-pipeline",
            bool(data.pipeline_stages) and amounts,
            "No open pipeline in money: the export has no deal amounts (deal_amount_usd); "
            "the open and stalled leads per stage are in the funnel's table."
            if data.pipeline_stages
            else "No open pipeline: no lead is in an open stage.",
        ),
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
        parts[chart_id] = chart_or_note(figure, chart_id + suffix, has_data, note)
    return SECTION.substitute(
        heading=f"<h2>{html.escape(data.pipeline_name)}</h2>" if heading else "",
        h="h3" if heading else "h2",
        s=suffix,
        verdict=verdict_html(data, suffix),
        cards=kpi_cards(data, glossary),
        chart_funnel=parts["chart-funnel"],
        stage_table=stage_table(data, glossary, suffix),
        chart_plan=parts["chart-plan"],
        chart_dwell=parts["chart-dwell"],
        rep_table=dimension_table(data, glossary, "owner_id", suffix),
        source_table=dimension_table(data, glossary, "lead_source", suffix),
        segment_table=dimension_table(data, glossary, "segment", suffix),
        todo_note=todo_note(data, glossary),
        todo_table=todo_table(data, glossary, False, suffix),
        dead_table=todo_table(data, glossary, True, suffix),
        chart_history=parts["chart-history"],
        chart_pipeline=parts["chart-pipeline"],
        chart_movement=parts["chart-movement"],
        chart_forecast=parts["chart-forecast"],
        forecast_accuracy=forecast_accuracy(data, glossary, suffix),
    )
