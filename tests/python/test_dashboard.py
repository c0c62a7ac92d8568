"""The pipeline dashboard (sales_pipeline.dashboard) opened from disk in
headless Chromium with the network off: it renders with no console error,
every chart has data, the numbers shown equal the marts', the tables sort,
and a screenshot is kept as target/dashboard.png. A warehouse of two
pipelines shows a section per pipeline, each with that pipeline's numbers.
The forecast's empty and amount-less cases are checked on copies of the
demo's warehouse, on the page and in make build's summary
(scripts/print_summary.py)."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chromium import Chromium
from dbt_project_harness import REPO, DbtProject

from sales_pipeline.dashboard import build_dashboard, dashboard_path
from sales_pipeline.dashboard.formats import money

SCREENSHOT = REPO / "target" / "dashboard.png"
# rpt_forecast_accuracy's methods as the page names them, in its order.
METHOD_WORDS = {
    "model": "This forecast",
    "weighted_pipeline": "Weighted pipeline",
    "last_3_months_average": "Last 3 months' average",
}
CHART_IDS = [
    "chart-funnel",
    "chart-plan",
    "chart-dwell",
    "chart-movement",
    "chart-forecast",
    "chart-history",
    "chart-pipeline",
]


def open_drawn(browser: Chromium, report: Path):
    """Opens the page offline and waits until Plotly has drawn every chart
    (it draws after the load event on some)."""
    loaded = browser.open_offline(report)
    browser.evaluate(
        """new Promise(function (resolve) {
             function ready() {
               var charts = document.querySelectorAll('.js-plotly-plot');
               return charts.length > 0 && Array.from(charts).every(function (c) {
                 return c._fullLayout && c.querySelector('.main-svg'); });
             }
             (function poll() { if (ready()) resolve(true); else setTimeout(poll, 50); })();
           })"""
    )
    return loaded


@pytest.fixture(scope="module")
def page(demo: DbtProject):
    report = build_dashboard(demo.database)
    browser = Chromium()
    try:
        loaded = open_drawn(browser, report)
        browser.screenshot(SCREENSHOT)
        yield browser, loaded, report
    finally:
        browser.close()


def test_the_page_is_written_beside_the_warehouse(demo: DbtProject, page):
    _, _, report = page
    assert report == dashboard_path(demo.database.resolve())
    assert report.parent == demo.database.resolve().parent
    assert "<script src=" not in report.read_text(), "the library is inside the page"


def test_it_renders_offline_with_no_console_error(page):
    browser, loaded, _ = page
    assert loaded.network_requests == []
    assert loaded.console_errors == []
    assert browser.evaluate("typeof Plotly") == "object", "plotly.js came from the page itself"
    assert SCREENSHOT.stat().st_size > 50_000


def test_every_chart_has_data(page):
    browser, _, _ = page
    charts = browser.evaluate(
        """Array.from(document.querySelectorAll('.js-plotly-plot')).map(function (c) {
             return {id: c.id, points: c.data.map(function (t) {
               return (t.y || t.values || []).filter(function (v) { return v !== null; }).length;
             })};
           })"""
    )
    assert [chart["id"] for chart in charts] == CHART_IDS
    for chart in charts:
        assert chart["points"] and all(n > 0 for n in chart["points"]), chart
    assert browser.evaluate("document.querySelectorAll('p.empty').length") == 0
    # One pipeline: the page as it always was, no pipeline sections or headings.
    assert browser.evaluate("document.querySelectorAll('section.pipeline, nav, h3').length") == 0


def test_the_numbers_shown_for_a_stage_equal_the_mart(demo: DbtProject, page):
    browser, _, _ = page
    [stage] = demo.query("select * from marts.fct_stage_conversion where stage_key = 'discovery'")
    row = browser.evaluate(
        """Array.from(document.querySelectorAll('#stage-table tbody tr'))
             .map(function (r) { return Array.from(r.cells).map(function (c) {
               return c.textContent; }); })
             .filter(function (cells) { return cells[0] === 'Discovery'; })[0]"""
    )
    assert row[1:9] == [
        f"{stage['leads_entered']:,}",
        f"{stage['leads_advanced']:,}",
        f"{stage['leads_completed']:,}",
        f"{stage['leads_old']:,}",
        f"{stage['leads_in_window']:,}",
        f"{stage['conversion_rate'] * 100:.1f}%",
        f"{stage['benchmark_conversion_rate'] * 100:.1f}%",
        f"{stage['expected_days_to_convert']:.1f}",
    ]
    assert row[9].startswith(
        {"healthy": "Healthy", "below_benchmark": "Below benchmark", "bandwidth": "Bandwidth"}[
            stage["diagnosis"]
        ]
    )
    # The funnel chart plots the mart's exact rate for the stage.
    plotted = browser.evaluate(
        """(function () { var t = document.getElementById('chart-funnel').data[0];
             return t.y[t.x.indexOf('Discovery')]; })()"""
    )
    assert math.isclose(plotted, stage["conversion_rate"], rel_tol=1e-12)


def test_the_headline_cards_and_the_plan_equal_the_marts(demo: DbtProject, page):
    browser, _, _ = page
    cards = browser.evaluate(
        """Object.fromEntries(Array.from(document.querySelectorAll('.card')).map(function (c) {
             return [c.dataset.metric, c.querySelector('.value').textContent]; }))"""
    )
    [win] = demo.query("select * from marts.fct_win_rates where dimension = 'overall'")
    [total] = demo.query("select * from marts.fct_pipeline_value where stage_key is null")
    old = demo.query("select count(*) as n from marts.rpt_old_leads")[0]["n"]
    assert cards["win_rate"] == f"{win['win_rate'] * 100:.1f}%"
    assert cards["weighted_pipeline_usd"] == f"${total['weighted_pipeline_usd']:,.0f}"
    assert cards["coverage_ratio"] == f"{total['coverage_ratio']:.2f}x"
    assert cards["weighted_coverage_ratio"] == f"{total['weighted_coverage_ratio']:.2f}x"
    assert cards["old_leads"] == f"{old:,}"

    plan = demo.query(
        "select stage_key, leads_needed, leads_in_stage from marts.fct_pipeline_plan "
        f"where target_month = date '{total['target_month']}' order by stage_order"
    )
    plotted = browser.evaluate(
        "document.getElementById('chart-plan').data.map(function (t) { return t.y; })"
    )
    assert plotted == [
        [row["leads_needed"] for row in plan],
        [row["leads_in_stage"] for row in plan],
    ]


def test_the_waterfall_adds_the_weeks_moves_to_the_open_leads(demo: DbtProject, page):
    """The movement waterfall plots the 7-day window of fct_pipeline_movement:
    the open leads a week ago, the new and reopened ones, the won and lost
    ones, and the open leads now, which are the leads whose current visit is
    of an open stage (counted apart, from fct_lead_stage_visits)."""
    browser, _, _ = page
    moved = {
        row["movement"]: row["leads"]
        for row in demo.query(
            "select movement, sum(leads) as leads from marts.fct_pipeline_movement "
            "where window_days = 7 group by movement"
        )
    }
    [open_now] = demo.query(
        "select count(*) as n from marts.fct_lead_stage_visits as v "
        "inner join marts.dim_stages as d on v.stage_key = d.stage_key "
        "where v.exited_at is null and d.stage_type = 'open'"
    )
    plotted = browser.evaluate("document.getElementById('chart-movement').data[0].y")
    steps = [
        moved["in_stage_at_start"],
        moved.get("new", 0),
        moved.get("reopened", 0),
        -moved.get("won", 0),
        -moved.get("lost", 0),
        moved["in_stage_at_end"],
    ]
    assert plotted == steps
    assert sum(steps[:-1]) == steps[-1] == open_now["n"]


def test_the_forecast_chart_and_table_equal_the_marts(demo: DbtProject, page):
    """What will close: a month ahead, each past month's won amount (bars)
    against each method's forecast (lines, the model's the widest), then
    the next three months' forecast, its open pipeline and new leads
    stacked; the accuracy table is rpt_forecast_accuracy's, and sorts."""
    browser, _, _ = page
    backtest = demo.query(
        "select forecast_month, forecast_method, forecast_won_amount, actual_won_amount "
        "from marts.fct_forecast_backtest where months_ahead = 1 and stage_key is null "
        "order by forecast_month"
    )
    past = sorted({row["forecast_month"] for row in backtest})
    coming = demo.query(
        "select forecast_month, "
        "sum(case when forecast_source = 'open_pipeline' then expected_won_amount end) as open, "
        "sum(case when forecast_source = 'new_leads' then expected_won_amount end) as new "
        "from marts.fct_revenue_forecast group by forecast_month order by forecast_month"
    )
    traces = browser.evaluate(
        """document.getElementById('chart-forecast').data.map(function (t) {
             return {name: t.name, x: t.x, y: t.y, width: t.line ? t.line.width : null}; })"""
    )
    assert [trace["name"] for trace in traces] == [
        "Won",
        *(f"{words}, a month before" for words in METHOD_WORDS.values()),
        "Forecast: open pipeline",
        "Forecast: new leads",
    ]
    labels = [f"{month:%b %Y}" for month in past]
    won, *methods, open_bars, new_bars = traces
    assert len(past) >= 6 and won["x"] == labels
    actual = {row["forecast_month"]: row["actual_won_amount"] for row in backtest}
    assert won["y"] == pytest.approx([actual[month] for month in past], rel=1e-12)
    for trace, method in zip(methods, METHOD_WORDS, strict=True):
        forecast = {
            row["forecast_month"]: row["forecast_won_amount"]
            for row in backtest
            if row["forecast_method"] == method
        }
        assert trace["x"] == labels
        assert trace["y"] == pytest.approx([forecast[month] for month in past], rel=1e-12)
    assert methods[0]["width"] > max(trace["width"] for trace in methods[1:])
    # The demo's as-of date ends August: the forecast is of three whole months.
    assert [row["forecast_month"].month for row in coming] == [9, 10, 11]
    for bars, source in ((open_bars, "open"), (new_bars, "new")):
        assert bars["x"] == [f"{row['forecast_month']:%b %Y}" for row in coming]
        assert bars["y"] == pytest.approx([row[source] for row in coming], rel=1e-12)
    title = browser.evaluate("document.getElementById('chart-forecast').layout.title.text")
    assert title.startswith("Won amount per month (USD)")

    accuracy = demo.query(
        "select forecast_method, months_ahead, months_compared, "
        "mean_absolute_percentage_error, bias from marts.rpt_forecast_accuracy"
    )
    shown = browser.evaluate(
        """Array.from(document.querySelectorAll('#forecast-table tbody tr')).map(function (r) {
             return Array.from(r.cells).map(function (c) {
               return [c.textContent, c.dataset.value]; }); })"""
    )
    assert len(accuracy) == 9 and len(shown) == len(accuracy)
    # A month ahead first, the model first.
    assert [(row[1][1], row[0][1]) for row in shown] == [
        (str(ahead), method) for ahead in (1, 2, 3) for method in METHOD_WORDS
    ]
    for row in accuracy:
        [cells] = [
            cells
            for cells in shown
            if cells[0][1] == row["forecast_method"] and cells[1][1] == str(row["months_ahead"])
        ]
        assert cells[0][0] == METHOD_WORDS[row["forecast_method"]]
        assert cells[2] == [f"{row['months_compared']:,}", str(row["months_compared"])]
        for cell, value in zip(cells[3:], ("mean_absolute_percentage_error", "bias"), strict=True):
            assert cell == [f"{row[value] * 100:.1f}%", str(row[value])]
    # "Mean error" sorts as numbers.
    errors = (
        "Array.from(document.querySelectorAll('#forecast-table tbody tr'))"
        ".map(r => Number(r.cells[3].dataset.value))"
    )
    browser.evaluate("document.querySelectorAll('#forecast-table th')[3].click()")
    values = browser.evaluate(errors)
    assert values == sorted(row["mean_absolute_percentage_error"] for row in accuracy)


def print_summary(warehouse: Path) -> str:
    """make build's summary of a warehouse: its forecast line."""
    printed = subprocess.run(
        [sys.executable, str(REPO / "scripts/print_summary.py"), str(warehouse)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [line] = [line for line in printed.splitlines() if line.startswith("Forecast")]
    return line


def test_the_summary_prints_the_forecast_and_its_error(demo: DbtProject):
    """make build's forecast line: the next month's won deals and amount by
    source (fct_revenue_forecast), and each method's error a month ahead
    (rpt_forecast_accuracy)."""
    sources = {
        row["forecast_source"]: row
        for row in demo.query(
            "select forecast_source, sum(expected_won_deals) as deals, "
            "sum(expected_won_amount) as amount from marts.fct_revenue_forecast "
            "where months_ahead = 1 group by forecast_source"
        )
    }
    errors = {
        row["forecast_method"]: row
        for row in demo.query("select * from marts.rpt_forecast_accuracy where months_ahead = 1")
    }
    deals = sources["open_pipeline"]["deals"] + sources["new_leads"]["deals"]
    amount = sources["open_pipeline"]["amount"] + sources["new_leads"]["amount"]
    [months] = {row["months_compared"] for row in errors.values()}
    assert print_summary(demo.database) == (
        f"Forecast for September 2026: {deals:.1f} won deals, ${amount:,.0f} "
        f"({sources['open_pipeline']['deals']:.1f} deals from the open pipeline, "
        f"{sources['new_leads']['deals']:.1f} from leads not created yet); "
        f"next-month error on the past {months} months (mean absolute % error of the won "
        f"amount): model {errors['model']['mean_absolute_percentage_error'] * 100:.0f} %, "
        "weighted pipeline "
        f"{errors['weighted_pipeline']['mean_absolute_percentage_error'] * 100:.0f} %, "
        "last 3 months' average "
        f"{errors['last_3_months_average']['mean_absolute_percentage_error'] * 100:.0f} % "
        "(marts.fct_revenue_forecast, marts.rpt_forecast_accuracy)"
    )


def test_the_reps_lists_sort_and_hold_every_old_lead(demo: DbtProject, page):
    browser, _, _ = page
    old_by_rep = {
        row["owner_id"]: row["n"]
        for row in demo.query(
            "select owner_id, count(*) as n from marts.rpt_old_leads group by owner_id"
        )
    }
    shown = browser.evaluate(
        """Array.from(document.querySelectorAll('#rep-table tbody tr')).map(function (r) {
             return [r.cells[0].textContent, Number(r.cells[1].dataset.value)]; })"""
    )
    assert dict(shown) == old_by_rep
    assert [n for _, n in shown] == sorted(old_by_rep.values(), reverse=True)
    todo_rows = browser.evaluate("document.querySelectorAll('#todo-table tbody tr').length")
    assert todo_rows == sum(old_by_rep.values())

    # A click on "Rep" sorts by name; a second click reverses it.
    column = (
        "Array.from(document.querySelectorAll('#rep-table tbody tr'))"
        ".map(r => r.cells[0].textContent)"
    )
    browser.evaluate("document.querySelector('#rep-table th').click()")
    assert browser.evaluate(column) == sorted(old_by_rep)
    browser.evaluate("document.querySelector('#rep-table th').click()")
    assert browser.evaluate(column) == sorted(old_by_rep, reverse=True)
    # "Days overdue" sorts as numbers, not as text.
    overdue = (
        "Array.from(document.querySelectorAll('#todo-table tbody tr'))"
        ".map(r => Number(r.cells[6].dataset.value))"
    )
    browser.evaluate("document.querySelectorAll('#todo-table th')[6].click()")
    values = browser.evaluate(overdue)
    assert values == sorted(values)
    assert browser.evaluate("document.querySelectorAll('#todo-table th')[6].dataset.order") == "asc"


def test_an_empty_history_says_so_instead_of_an_empty_chart(demo: DbtProject, tmp_path: Path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo.database, copy)
    import duckdb

    # A history_start after the as-of date leaves the history without a day.
    with duckdb.connect(str(copy)) as connection:
        connection.execute("delete from marts.fct_stage_conversion_daily")
    page = build_dashboard(copy).read_text()
    assert 'id="chart-history"' in page
    assert "No history: fct_stage_conversion_daily has no day" in page
    assert page.count("Plotly.newPlot") == len(CHART_IDS) - 1


def test_an_empty_forecast_says_so_instead_of_an_empty_chart(demo: DbtProject, tmp_path: Path):
    """No open lead, no lead created lately and no past month: the chart, the
    table and make build's line each say so, and what fills them."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo.database, copy)
    import duckdb

    with duckdb.connect(str(copy)) as connection:
        for mart in ("fct_revenue_forecast", "fct_forecast_backtest", "rpt_forecast_accuracy"):
            connection.execute(f"delete from marts.{mart}")
    page = build_dashboard(copy).read_text()
    assert '<p class="empty" id="chart-forecast">Nothing to forecast: no lead is open' in page
    assert (
        '<p class="empty" id="forecast-table">No past month to compare the forecast with yet: '
        "the history (var history_start) needs a whole month before the as-of date.</p>" in page
    )
    assert page.count("Plotly.newPlot") == len(CHART_IDS) - 1
    assert print_summary(copy) == (
        "Forecast: nothing to forecast: no lead is open and none was created in the last "
        "3 months (open leads and new ones fill it); no past month to compare yet: the "
        "history (var history_start) needs a whole month before the as-of date "
        "(marts.fct_revenue_forecast, marts.rpt_forecast_accuracy)"
    )


def test_without_amounts_mid_month_the_forecast_is_in_deals(demo: DbtProject, tmp_path: Path):
    """An export without amounts (Pipedrive's), built mid-month: the chart
    plots deals and says so, the accuracy says why it is empty, and make
    build's line speaks of deals and of the rest of the month."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo.database, copy)
    import duckdb

    from sales_pipeline.dashboard.figures import forecast_figure
    from sales_pipeline.dashboard.queries import read_dashboard_data

    with duckdb.connect(str(copy)) as connection:
        connection.execute(
            "update marts.fct_revenue_forecast "
            "set expected_won_amount = null, as_of_date = date '2026-09-15'"
        )
        connection.execute(
            "update marts.fct_forecast_backtest set forecast_won_amount = 0, "
            "actual_won_amount = 0, error_amount = 0, absolute_percentage_error = null"
        )
        connection.execute(
            "update marts.rpt_forecast_accuracy "
            "set months_compared = 0, mean_absolute_percentage_error = null, bias = null"
        )
        [pipeline] = read_dashboard_data(connection).pipelines
    backtest = demo.query(
        "select forecast_month, forecast_method, forecast_won_deals, actual_won_deals "
        "from marts.fct_forecast_backtest where months_ahead = 1 and stage_key is null "
        "order by forecast_month"
    )
    coming = demo.query(
        "select forecast_month, months_ahead, "
        "sum(case when forecast_source = 'open_pipeline' then expected_won_deals end) as open, "
        "sum(case when forecast_source = 'new_leads' then expected_won_deals end) as new "
        "from marts.fct_revenue_forecast group by all order by forecast_month"
    )
    figure = forecast_figure(pipeline)
    assert "Won deals per month (the data has no amounts)" in figure.layout.title.text
    won, model, *_, open_bars, new_bars = figure.data
    by_model = [row for row in backtest if row["forecast_method"] == "model"]
    assert list(won.y) == [row["actual_won_deals"] for row in by_model]
    model_deals = [row["forecast_won_deals"] for row in by_model]
    assert list(model.y) == pytest.approx(model_deals, rel=1e-12)
    assert list(open_bars.x) == ["rest of Sep 2026", "Oct 2026", "Nov 2026"]
    assert list(open_bars.y) == pytest.approx([row["open"] for row in coming], rel=1e-12)
    assert list(new_bars.y) == pytest.approx([row["new"] for row in coming], rel=1e-12)
    page = build_dashboard(copy).read_text()
    assert "the error is of the won amount, and the data has no amounts" in page
    [first] = [row for row in coming if row["months_ahead"] == 1]
    assert print_summary(copy) == (
        f"Forecast for the rest of September 2026: {first['open'] + first['new']:.1f} won deals "
        f"({first['open']:.1f} deals from the open pipeline, {first['new']:.1f} from leads "
        "not created yet); no past month to compare: the error is of the won amount, and the "
        "data has no amounts (marts.fct_revenue_forecast, marts.rpt_forecast_accuracy)"
    )


def test_the_exposure_names_what_the_page_reads(demo: DbtProject):
    import json

    from sales_pipeline.dashboard import MARTS_READ

    manifest = json.loads((demo.root / "target/manifest.json").read_text())
    exposure = manifest["exposures"]["exposure.sales_pipeline.pipeline_dashboard"]
    assert sorted(exposure["depends_on"]["nodes"]) == sorted(
        f"model.sales_pipeline.{mart}" for mart in MARTS_READ
    )


def test_a_missing_warehouse_is_a_clear_error(tmp_path: Path, capsys):
    from sales_pipeline.dashboard import main

    assert main(["--warehouse", str(tmp_path / "nothing.duckdb")]) == 1
    assert "run `make build` first" in capsys.readouterr().err


def test_amounts_are_written_in_the_reporting_currency():
    """The marts' reporting_currency, not always dollars: a symbol before
    the amount where the currency has a common one, else its code after."""
    assert money(1234.5, "USD") == "$1,234"
    assert money(1234.5, "EUR") == "€1,234"
    assert money(2_000_000, "CHF") == "2,000,000 CHF"
    assert money(None, "EUR") == "-"


@pytest.fixture(scope="module")
def two_pipeline_page(two_pipelines: DbtProject):
    report = build_dashboard(two_pipelines.database)
    browser = Chromium()
    try:
        loaded = open_drawn(browser, report)
        yield two_pipelines, browser, loaded
    finally:
        browser.close()


def test_two_pipelines_show_a_section_each_with_its_own_numbers(two_pipeline_page):
    project, browser, loaded = two_pipeline_page
    assert loaded.console_errors == [] and loaded.network_requests == []
    sections = browser.evaluate(
        """Array.from(document.querySelectorAll('section.pipeline')).map(function (s) {
             return {id: s.dataset.pipelineId, heading: s.querySelector('h2').textContent,
                     charts: Array.from(s.querySelectorAll('.js-plotly-plot'))
                       .map(function (c) { return c.id; })}; })"""
    )
    assert [(s["id"], s["heading"]) for s in sections] == [
        ("inbound", "Inbound"),
        ("partner", "Partner deals"),
    ]
    for number, section in enumerate(sections, start=1):
        assert section["charts"] == [f"{chart}-{number}" for chart in CHART_IDS]
    assert browser.evaluate("document.querySelectorAll('p.empty').length") == 0

    for number, pipeline in enumerate(["inbound", "partner"], start=1):
        in_section = f"document.querySelector('section[data-pipeline-id=\"{pipeline}\"]')"
        [win] = project.query(
            "select * from marts.fct_win_rates "
            f"where pipeline_id = '{pipeline}' and dimension = 'overall'"
        )
        [total] = project.query(
            "select * from marts.fct_pipeline_value "
            f"where pipeline_id = '{pipeline}' and stage_key is null"
        )
        old = project.query(
            "select owner_id, count(*) as n from marts.rpt_old_leads "
            f"where pipeline_id = '{pipeline}' group by owner_id"
        )
        cards = browser.evaluate(
            f"""Object.fromEntries(Array.from({in_section}.querySelectorAll('.card'))
                 .map(function (c) {{
                   return [c.dataset.metric, c.querySelector('.value').textContent]; }}))"""
        )
        assert cards["win_rate"] == f"{win['win_rate'] * 100:.1f}%"
        assert cards["weighted_pipeline_usd"] == f"${total['weighted_pipeline_usd']:,.0f}"
        assert cards["coverage_ratio"] == f"{total['coverage_ratio']:.2f}x"
        assert cards["old_leads"] == f"{sum(row['n'] for row in old):,}"

        stages = project.query(
            "select stage_key, leads_entered, conversion_rate from marts.fct_stage_conversion "
            f"where pipeline_id = '{pipeline}' order by stage_order"
        )
        shown = browser.evaluate(
            f"""Array.from(document.querySelectorAll('#stage-table-{number} tbody tr'))
                 .map(function (r) {{ return [0, 1, 6].map(function (i) {{
                   return r.cells[i].dataset.value; }}); }})"""
        )
        assert stages and shown == [
            [str(v) if v is not None else "" for v in stage.values()] for stage in stages
        ]

        plan = project.query(
            "select leads_needed, leads_in_stage from marts.fct_pipeline_plan "
            f"where pipeline_id = '{pipeline}' and target_month = date '{total['target_month']}' "
            "order by stage_order"
        )
        plotted = browser.evaluate(
            f"document.getElementById('chart-plan-{number}').data.map(function (t) {{ "
            "return t.y; })"
        )
        assert plan and plotted == [
            [row["leads_needed"] for row in plan],
            [row["leads_in_stage"] for row in plan],
        ]
        reps = browser.evaluate(
            f"""Array.from(document.querySelectorAll('#rep-table-{number} tbody tr'))
                 .map(function (r) {{
                   return [r.cells[0].textContent, Number(r.cells[1].dataset.value)]; }})"""
        )
        assert dict(reps) == {row["owner_id"] or "(no owner)": row["n"] for row in old}
        accuracy = project.query(
            "select forecast_method, months_ahead, mean_absolute_percentage_error "
            f"from marts.rpt_forecast_accuracy where pipeline_id = '{pipeline}'"
        )
        shown = browser.evaluate(
            f"""Array.from(document.querySelectorAll('#forecast-table-{number} tbody tr'))
                 .map(function (r) {{ return [0, 1, 3].map(function (i) {{
                   return r.cells[i].dataset.value; }}); }})"""
        )
        assert accuracy and sorted(shown) == sorted(
            [str(v) if v is not None else "" for v in row.values()] for row in accuracy
        )
