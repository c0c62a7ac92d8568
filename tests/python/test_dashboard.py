"""The pipeline dashboard (sales_pipeline.dashboard) opened from disk in
headless Chromium with the network off: it renders with no console error,
every chart has data, the numbers shown equal the marts', the tables sort,
and a screenshot is kept as target/dashboard.png. On a phone's, a tablet's
and a laptop's screen (390, 768 and 1,440 px wide) nothing is wider than
the screen, the tables scroll sideways in their box and no chart is
clipped, checked from the DOM; their screenshots are kept as artifacts,
target/dashboard-390.png, target/dashboard-768.png and
target/dashboard-1440.png. A warehouse of two
pipelines shows a section per pipeline, each with that pipeline's numbers.
The forecast's empty and amount-less cases are checked on copies of the
demo's warehouse, on the page and in make build's summary
(scripts/print_summary.py)."""

from __future__ import annotations

import math
import re
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
    "chart-plan",
    "chart-forecast",
    "chart-funnel",
    "chart-movement",
    "chart-dwell",
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


def test_the_reps_view_equals_the_marts_and_sorts(demo: DbtProject, page):
    """Per rep, source and segment: fct_win_rates' won, decided, win rate and
    average won deal, fct_stage_conversion_by_dimension's conversion per
    stage and stalled leads, and the open leads not stalled (the current
    visits of open stages)."""
    browser, _, _ = page
    stages = [row["stage_key"] for row in demo.query(
        "select stage_key from marts.fct_stage_conversion order by stage_order"
    )]  # fmt: skip
    for dimension, table in (
        ("owner_id", "rep"),
        ("lead_source", "source"),
        ("segment", "segment"),
    ):
        wins = {
            row["dimension_value"]: row
            for row in demo.query(
                f"select * from marts.fct_win_rates where dimension = '{dimension}'"
            )
        }
        conversion = {
            (row["dimension_value"], row["stage_key"]): row
            for row in demo.query(
                "select * from marts.fct_stage_conversion_by_dimension "
                f"where dimension = '{dimension}'"
            )
        }
        open_leads = {
            row["value"]: row["n"]
            for row in demo.query(
                f"select v.{dimension} as value, count(*) as n "
                "from marts.fct_lead_stage_visits as v "
                "inner join marts.dim_stages as d on v.stage_key = d.stage_key "
                "where v.exited_at is null and not v.is_old and d.stage_type = 'open' "
                "group by all"
            )
        }
        shown = browser.evaluate(
            f"""Array.from(document.querySelectorAll('#{table}-table tbody tr')).map(function (r) {{
                 return Array.from(r.cells).map(function (c) {{ return c.dataset.value; }}); }})"""
        )
        assert sorted(row[0] for row in shown) == sorted(wins), dimension
        for value, won, decided, rate, _, *rest in shown:
            *by_stage, stalled, opened, _ = rest
            assert [int(won), int(decided)] == [
                wins[value]["leads_won"],
                wins[value]["leads_decided"],
            ]
            assert float(rate) == pytest.approx(wins[value]["win_rate"], rel=1e-12)
            assert [float(v) if v else None for v in by_stage] == [
                conversion[(value, stage)]["conversion_rate"] for stage in stages
            ]
            assert int(stalled) == sum(conversion[(value, s)]["leads_old"] for s in stages)
            assert int(opened) == open_leads.get(value, 0)

    # A click on "Rep" sorts by name; a second click reverses it.
    column = (
        "Array.from(document.querySelectorAll('#rep-table tbody tr'))"
        ".map(r => r.cells[0].textContent)"
    )
    reps = sorted(browser.evaluate(column))
    browser.evaluate("document.querySelector('#rep-table th').click()")
    assert browser.evaluate(column) == reps
    browser.evaluate("document.querySelector('#rep-table th').click()")
    assert browser.evaluate(column) == sorted(reps, reverse=True)


def test_the_to_do_list_puts_the_leads_worth_saving_first(demo: DbtProject, page):
    """Every old lead is listed once: first those a rep can still save,
    least overdue first, then the likely dead (rpt_old_leads.is_likely_dead),
    apart; the days overdue sort as numbers."""
    browser, _, _ = page
    old = {
        row["lead_id"]: row
        for row in demo.query(
            "select lead_id, days_overdue, is_likely_dead from marts.rpt_old_leads"
        )
    }
    listed = {
        table: browser.evaluate(
            f"""Array.from(document.querySelectorAll('#{table} tbody tr')).map(function (r) {{
                 return [r.cells[0].textContent, Number(r.cells[6].dataset.value)]; }})"""
        )
        for table in ("todo-table", "dead-table")
    }
    live, dead = listed["todo-table"], listed["dead-table"]
    assert live and dead, "the demo has both kinds"
    assert sorted(lead for lead, _ in live + dead) == sorted(old)
    assert {lead for lead, _ in dead} == {
        lead for lead, row in old.items() if row["is_likely_dead"]
    }
    assert [days for _, days in live] == sorted(days for _, days in live)
    # "Days overdue" sorts as numbers, not as text; a second click reverses it.
    overdue = (
        "Array.from(document.querySelectorAll('#todo-table tbody tr'))"
        ".map(r => Number(r.cells[6].dataset.value))"
    )
    header = "document.querySelectorAll('#todo-table th')[6]"
    browser.evaluate(f"{header}.click()")
    browser.evaluate(f"{header}.click()")
    assert browser.evaluate(overdue) == sorted((days for _, days in live), reverse=True)
    assert browser.evaluate(f"{header}.dataset.order") == "desc"


def test_the_verdict_numbers_equal_the_marts(demo: DbtProject, page):
    """The verdict on the next target month: the forecast of that month
    against its target (on track when it reaches it), the forecast's error a
    month ahead, the stage furthest short of the leads the plan needs, and
    the stalled leads; each number links to a section of the page."""
    browser, _, _ = page
    [total] = demo.query("select * from marts.fct_pipeline_value where stage_key is null")
    month = total["target_month"]
    [forecast] = demo.query(
        "select sum(expected_won_amount) as amount, sum(expected_won_deals) as deals "
        f"from marts.fct_revenue_forecast where forecast_month = date '{month}'"
    )
    plan = demo.query(f"select * from marts.fct_pipeline_plan where target_month = date '{month}'")
    [error] = demo.query(
        "select mean_absolute_percentage_error as e from marts.rpt_forecast_accuracy "
        "where forecast_method = 'model' and months_ahead = 1"
    )
    worst = max(plan, key=lambda row: row["lead_gap"] / row["leads_needed"])
    stages = demo.query("select stage_key, leads_old from marts.fct_stage_conversion")
    [old] = demo.query("select count(*) as n from marts.rpt_old_leads")
    shown = browser.evaluate(
        """Array.from(document.querySelectorAll('#verdict a.number')).map(function (a) {
             return [a.dataset.metric, a.dataset.value, a.getAttribute('href')]; })"""
    )
    values = {metric: float(value) for metric, value, _ in shown}
    assert values == pytest.approx(
        {
            "forecast_won_amount": forecast["amount"],
            "forecast_won_deals": forecast["deals"],
            "revenue_target_usd": plan[0]["revenue_target_usd"],
            "forecast_error": error["e"],
            "deals_needed": plan[0]["deals_needed"],
            "leads_in_stage": worst["leads_in_stage"],
            "leads_needed": worst["leads_needed"],
            "leads_old": old["n"],
            "old_pipeline_usd": total["old_pipeline_usd"],
            "stage_leads_old": max(row["leads_old"] for row in stages),
        },
        rel=1e-12,
    )
    for _, _, href in shown:
        assert browser.evaluate(f"document.getElementById('{href[1:]}') !== null"), href
    state = browser.evaluate("document.getElementById('verdict').dataset.state")
    assert state == ("on-track" if forecast["amount"] >= plan[0]["revenue_target_usd"] else "short")
    headline = browser.evaluate("document.querySelector('#verdict .headline').textContent")
    assert f"{month:%B %Y}" in headline


def test_every_label_has_its_definition_from_the_docs(demo: DbtProject, page):
    """Every column header and card label is a glossary term; its entry at
    the page's end is the mart column's description from the dbt docs (the
    warehouse's column comment), and so is its hover text."""
    from sales_pipeline.dashboard.glossary import TERMS

    browser, _, _ = page
    unlabelled = browser.evaluate(
        """Array.from(document.querySelectorAll('th, .card .label'))
             .filter(function (e) { return !e.querySelector('[data-term]'); })
             .map(function (e) { return e.textContent; })"""
    )
    assert unlabelled == []
    used = browser.evaluate(
        """Array.from(new Set(Array.from(document.querySelectorAll('[data-term]'))
             .map(function (e) { return e.dataset.term; })))"""
    )
    comments = {
        f"{row['table_name']}.{row['column_name']}": row["comment"]
        for row in demo.query(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'marts'"
        )
    }
    entries = browser.evaluate(
        """Object.fromEntries(Array.from(document.querySelectorAll('#glossary dt'))
             .map(function (dt) { return [dt.id.slice(5), dt.nextElementSibling.textContent]; }))"""
    )
    assert sorted(entries) == sorted(used)
    for term in used:
        description = comments[TERMS[term][1]]
        assert description, term
        plain = description.replace("`", "")
        assert entries[term].startswith(plain), term
        hover = browser.evaluate(f"document.querySelector('[data-term=\"{term}\"]').title")
        assert hover == plain


def edited_page(demo: DbtProject, tmp_path: Path, *statements: str) -> str:
    """The page of a copy of the demo's warehouse after the statements."""
    import duckdb

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo.database, copy)
    with duckdb.connect(str(copy)) as connection:
        for statement in statements:
            connection.execute(statement)
    return build_dashboard(copy).read_text()


def test_without_targets_the_page_says_what_would_fill_it(demo: DbtProject, tmp_path: Path):
    page = edited_page(
        demo,
        tmp_path,
        "delete from marts.fct_pipeline_plan",
        "update marts.fct_pipeline_value set target_month = null, revenue_target_usd = null, "
        "coverage_ratio = null, weighted_coverage_ratio = null",
    )
    assert '<p class="empty" id="chart-plan">No revenue target for a month after' in page
    assert "There is no revenue target for September 2026: add one to revenue_targets.csv" in page
    assert page.count("no revenue target for a month after the as-of date: add one to") == 2
    assert 'data-state="unknown"' in page


def test_without_amounts_the_page_counts_deals_and_says_why(demo: DbtProject, tmp_path: Path):
    """An export without amounts (Pipedrive's): no chart of money, each
    card and the verdict say the export has no amounts and what fills them."""
    page = edited_page(
        demo,
        tmp_path,
        "update marts.fct_pipeline_value set pipeline_usd = null, old_pipeline_usd = null, "
        "weighted_pipeline_usd = null, coverage_ratio = null, weighted_coverage_ratio = null, "
        "pipeline_velocity_usd_per_day = null",
        "update marts.fct_win_rates set avg_won_deal_usd = null",
        # A view: replaced by a table of its rows without amounts.
        "create table marts.visits as select * replace (cast(null as double) "
        "as deal_amount_reporting) from marts.fct_lead_stage_visits",
        "drop view marts.fct_lead_stage_visits",
        "alter table marts.visits rename to fct_lead_stage_visits",
        "update marts.fct_pipeline_plan set avg_deal_size_usd = null, deals_needed = null, "
        "leads_needed = null, lead_gap = null",
        "update marts.fct_revenue_forecast set expected_won_amount = null",
        "update marts.fct_forecast_backtest set forecast_won_amount = 0, actual_won_amount = 0",
    )
    assert '<p class="empty" id="chart-plan">No plan: the export has no deal amounts' in page
    assert '<p class="empty" id="chart-pipeline">No open pipeline in money' in page
    assert "The export has no deal amounts, so they cannot be set against a revenue target" in page
    assert page.count("the export has no deal amounts (deal_amount_usd)") >= 5
    text = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert "$-" not in text and "-$" not in text


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
        # The reps' stalled leads: the third column from the end.
        reps = browser.evaluate(
            f"""Array.from(document.querySelectorAll('#rep-table-{number} tbody tr'))
                 .map(function (r) {{ return [r.cells[0].textContent,
                   Number(r.cells[r.cells.length - 3].dataset.value)]; }})"""
        )
        stalled = project.query(
            "select dimension_value, sum(leads_old) as n "
            "from marts.fct_stage_conversion_by_dimension "
            f"where pipeline_id = '{pipeline}' and dimension = 'owner_id' group by all"
        )
        assert dict(reps) == {row["dimension_value"]: row["n"] for row in stalled}
        assert sum(n for _, n in reps) == sum(row["n"] for row in old)
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


# The screens the page is checked on: a phone's and a tablet's (mobile
# browsers: the viewport meta tag decides the width the page lays out at)
# and a laptop's; the narrowest a chart may draw on each.
SCREENS = [
    pytest.param(390, 844, True, 300, id="phone-390"),
    pytest.param(768, 1024, True, 600, id="tablet-768"),
    pytest.param(1440, 900, False, 1000, id="laptop-1440"),
]
# Resizes every chart to its box (Plotly's responsive charts follow the
# window's resize event) and waits until each has redrawn at its box's
# width: the ids of those that did not within 20 s.
RELAYOUT = """new Promise(function (resolve) {
  var deadline = Date.now() + 20000;
  window.dispatchEvent(new Event('resize'));
  function fitted(chart) {
    var drawn = chart._fullLayout && chart._fullLayout.width;
    return drawn && Math.abs(drawn - chart.getBoundingClientRect().width) <= 1
      && drawn <= chart.parentElement.getBoundingClientRect().width + 0.5;
  }
  (function poll() {
    var pending = Array.from(document.querySelectorAll('.js-plotly-plot'))
      .filter(function (chart) { return !fitted(chart); })
      .map(function (chart) { return chart.id; });
    if (pending.length && Date.now() < deadline) { setTimeout(poll, 50); return; }
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      resolve(pending); }); });
  })();
})"""
# The page's layout on the screen, from the DOM: its widths, the elements
# reaching past the screen's right edge outside a box that scrolls
# sideways, each chart's drawn width against its box's and the text it
# clips (title, legend, axis titles and ticks beyond the chart), each
# table's sideways-scrolling box, and the tallest table row.
LAYOUT = """(function (width) {
  function describe(element) {
    var css = (element.getAttribute('class') || '').trim().split(/\\s+/).join('.');
    return element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
      + (css ? '.' + css : '');
  }
  function scroller(element) {
    for (var box = element.parentElement; box; box = box.parentElement) {
      var overflow = getComputedStyle(box).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return box;
    }
    return null;
  }
  var right = function (element) {
    return element.getBoundingClientRect().right + window.scrollX; };
  var offenders = [];
  document.querySelectorAll('body *').forEach(function (element) {
    var box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) return;
    if (box.right + window.scrollX <= 0) return;  // placed off screen on purpose
    if (box.right + window.scrollX > width + 0.5 && !scroller(element)) {
      offenders.push(describe(element) + ' reaches ' + Math.round(box.right) + ' px');
    }
  });
  if (offenders.length > 12) offenders.splice(12, offenders.length, '...');
  var charts = Array.from(document.querySelectorAll('.js-plotly-plot')).map(function (chart) {
    var frame = chart.getBoundingClientRect();
    var svg = chart.querySelector('.main-svg').getBoundingClientRect();
    var clipped = Array.from(chart.querySelectorAll('.main-svg text'))
      .filter(function (text) {
        var box = text.getBoundingClientRect();
        return box.width > 0 && (box.left < frame.left - 1 || box.right > frame.right + 1
          || box.top < frame.top - 1 || box.bottom > frame.bottom + 1);
      })
      .map(function (text) { return describe(text.parentNode) + ': ' + text.textContent; });
    return {id: chart.id, svg: svg.width, box: chart.parentElement.getBoundingClientRect().width,
            clipped: clipped};
  });
  var tables = Array.from(document.querySelectorAll('table')).map(function (table) {
    var box = scroller(table);
    return {id: table.id, box: box && box.getBoundingClientRect().width,
            right: box && right(box)};
  });
  var rows = Array.from(document.querySelectorAll('tr')).map(function (row) {
    return [row.getBoundingClientRect().height, row.closest('table').id + ': '
      + row.cells[0].textContent];
  }).sort(function (a, b) { return b[0] - a[0]; });
  return {innerWidth: window.innerWidth, clientWidth: document.documentElement.clientWidth,
          scrollWidth: document.documentElement.scrollWidth, offenders: offenders,
          charts: charts, tables: tables, tallestRow: rows[0]};
})"""


@pytest.mark.parametrize(("width", "height", "mobile", "narrowest_chart"), SCREENS)
def test_the_page_fits_a_phone_a_tablet_and_a_laptop(
    page, width: int, height: int, mobile: bool, narrowest_chart: int
):
    """On each screen the page lays out at the screen's width (a phone's
    browser lays a page without a viewport meta tag out at 980 px and
    shrinks it), nothing reaches past the screen's edge but the tables,
    which scroll sideways inside their box, every chart redraws to its box
    with its text inside it, and no table row balloons; the screenshot is
    kept as target/dashboard-<width>.png."""
    browser, loaded, _ = page
    try:
        browser.set_viewport(width, height, mobile=mobile)
        unfitted = browser.evaluate(RELAYOUT)
        layout = browser.evaluate(f"{LAYOUT}({width})")
        browser.screenshot(REPO / "target" / f"dashboard-{width}.png", width=None)
    finally:  # the desktop the other tests read the page on
        browser.set_viewport(1400, 1000)
        browser.evaluate(RELAYOUT)

    assert loaded.console_errors == [], "the charts redrew without an error"
    assert layout["innerWidth"] == width, "the page lays out at the screen's width"
    assert unfitted == [], "these charts did not redraw at their box's width"
    assert layout["scrollWidth"] <= layout["clientWidth"], "the page scrolls sideways"
    assert layout["offenders"] == [], "these reach past the screen's edge"
    for chart in layout["charts"]:
        assert narrowest_chart <= chart["svg"] <= chart["box"] + 0.5, chart
        assert chart["clipped"] == [], chart
    assert layout["tables"]
    for table in layout["tables"]:
        assert table["box"] is not None, f"{table['id']} has no box scrolling sideways"
        assert table["right"] <= layout["clientWidth"] + 0.5, table
    assert layout["tallestRow"][0] <= 160, f"a row balloons: {layout['tallestRow']}"
