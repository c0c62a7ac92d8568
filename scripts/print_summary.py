"""Print where the marts are, a one-screen summary of fct_stage_conversion and
the headlines of the movement, forecast, win-rate, pipeline-value and
time-to-advance marts:
one block per pipeline, headed by the pipeline's name when there are several.

Usage: python scripts/print_summary.py [path/to/pipeline.duckdb]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sales_pipeline.dashboard.formats import money as money_in
from sales_pipeline.dashboard.queries import (
    Forecast,
    read_currency,
    read_forecast,
    read_movement,
    read_pipelines,
)

MARTS = [
    "fct_stage_conversion",
    "fct_stage_conversion_daily",
    "fct_pipeline_plan",
    "fct_lead_stage_visits",
    "fct_stage_conversion_by_dimension",
    "fct_win_rates",
    "fct_pipeline_value",
    "fct_cohort_conversion",
    "fct_stage_time_to_advance",
    "rpt_stage_conversion_change",
    "fct_pipeline_movement",
    "fct_revenue_forecast",
    "fct_forecast_backtest",
    "rpt_forecast_accuracy",
    "rpt_old_leads",
    "dim_stages",
    "rpt_export_files",
]


def format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def ratio_text(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# rpt_forecast_accuracy's methods in words, in the order they are printed.
METHOD_WORDS = {
    "model": "model",
    "weighted_pipeline": "weighted pipeline",
    "last_3_months_average": "last 3 months' average",
}


def forecast_headline(forecast: Forecast, money: Callable[[float | None], str]) -> str:
    """The next month's forecast (the rest of the as-of date's month when
    that is mid-month) by source, and how far each method was off a month
    ahead on the past months (docs/metrics.md section 17); in deals alone
    when there is no amount."""
    first = next((row for row in forecast.months if row["months_ahead"] == 1), None)
    if first is None:
        expected = (
            "Forecast: nothing to forecast: no lead is open and none was created in the "
            "last 3 months (open leads and new ones fill it)"
        )
    else:
        month = first["forecast_month"]
        period = f"the rest of {month:%B %Y}" if month <= first["as_of_date"] else f"{month:%B %Y}"
        won = f"{first['won_deals']:.1f} won deals"
        if first["won_amount"] is not None:
            won += f", {money(first['won_amount'])}"
        if first["open_pipeline_leads"] and first["new_leads_leads"]:
            split = (
                f"{first['open_pipeline_deals']:.1f} deals from the open pipeline, "
                f"{first['new_leads_deals']:.1f} from leads not created yet"
            )
        elif first["open_pipeline_leads"]:
            split = (
                f"all from the open pipeline: no lead was created in the 3 months before {month:%B}"
            )
        else:
            split = "no open pipeline: all from leads not created yet"
        expected = f"Forecast for {period}: {won} ({split})"
    ahead = [row for row in forecast.accuracy if row["months_ahead"] == 1]
    compared = [row["months_compared"] for row in ahead if row["months_compared"]]
    if not ahead:
        error = (
            "no past month to compare yet: the history (var history_start) needs a whole "
            "month before the as-of date"
        )
    elif not forecast.amounts:
        error = (
            "no past month to compare: the error is of the won amount, and the data has no amounts"
        )
    elif not compared:
        error = "no past month with a win to compare yet"
    else:
        most = max(compared)

        def method_error(row: dict) -> str:
            mape = row["mean_absolute_percentage_error"]
            text = f"{METHOD_WORDS[row['forecast_method']]} "
            text += "-" if mape is None else f"{mape * 100:.0f} %"
            if row["months_compared"] != most:
                text += f" (over {row['months_compared']:,} months)"
            return text

        months = f"the past {most:,} months" if most > 1 else "the past month"
        error = (
            f"next-month error on {months} (mean absolute % error of the won amount): "
            + ", ".join(method_error(row) for row in ahead)
        )
    return f"{expected}; {error} (marts.fct_revenue_forecast, marts.rpt_forecast_accuracy)"


def read_headlines(
    connection: duckdb.DuckDBPyConnection, pipeline_id: str, currency: str
) -> list[str]:
    """One line each, for one pipeline: what moved over the shortest
    movement window, the next month's forecast and how well it did, win
    rate and cycle, the pipeline against its next month's target and its
    velocity, and the Kaplan-Meier median beside the average."""
    lines = []

    def money(value: float | None) -> str:
        return money_in(value, currency)

    moved = read_movement(connection, pipeline_id)
    if moved:
        lines.append(
            f"Last {moved['window_days']} days ({moved['from_date']} to {moved['to_date']}): "
            f"{moved['at_start']:,} open leads, +{moved['new']:,} new, "
            f"+{moved['reopened']:,} reopened, "
            f"-{moved['won']:,} won ({money(moved['won_amount'])}), -{moved['lost']:,} lost "
            f"= {moved['at_end']:,} open; "
            f"{moved['became_old']:,} became old (marts.fct_pipeline_movement)"
        )
    lines.append(forecast_headline(read_forecast(connection, pipeline_id), money))

    win = connection.execute(
        "select leads_won, leads_decided, win_rate, avg_won_deal_usd, avg_sales_cycle_days, "
        "median_sales_cycle_days from marts.fct_win_rates "
        "where pipeline_id = ? and dimension = 'overall'",
        [pipeline_id],
    ).fetchone()
    if win:
        won, decided, rate, deal, cycle, median = win
        lines.append(
            f"Win rate {ratio_text(rate, 3)} ({won:,} won of {decided:,} decided), "
            f"average won deal {money(deal)}, sales cycle {ratio_text(cycle, 1)} days "
            f"(median {ratio_text(median, 1)})"
        )
    total = connection.execute(
        "select pipeline_usd, weighted_pipeline_usd, leads_open, leads_old, old_pipeline_usd, "
        "target_month, revenue_target_usd, coverage_ratio, weighted_coverage_ratio, "
        "pipeline_velocity_usd_per_day from marts.fct_pipeline_value "
        "where pipeline_id = ? and stage_key is null",
        [pipeline_id],
    ).fetchone()
    if total:
        pipeline, weighted, n_open, n_old, old_usd, month, target, cover, w_cover, velocity = total
        target_text = (
            f"against {month:%B %Y}'s target {money(target)}: coverage {ratio_text(cover)}, "
            f"weighted {ratio_text(w_cover)}"
            if month
            else "no revenue target for a month after the as-of date "
            "(revenue_targets.csv in config_path)"
        )
        lines.append(
            f"Pipeline {money(pipeline)} in {n_open:,} leads not old "
            f"(weighted {money(weighted)}), {target_text}; "
            f"old leads apart: {n_old:,} holding {money(old_usd)}"
        )
        lines.append(f"Pipeline velocity {money(velocity)} a day")
    stages = connection.execute(
        "select stage_key, avg_days_to_advance, km_median_days_to_advance "
        "from marts.fct_stage_time_to_advance where pipeline_id = ? order by stage_order",
        [pipeline_id],
    ).fetchall()
    if stages:
        lines.append(
            "Days to advance, average / Kaplan-Meier median (counts the leads still waiting): "
            + ", ".join(
                f"{key} {ratio_text(avg, 1)} / {ratio_text(km, 1)}" for key, avg, km in stages
            )
        )
    return lines


def read_stage_rows(connection: duckdb.DuckDBPyConnection, pipeline_id: str) -> list[tuple]:
    return connection.execute(
        """
        select
            stage_key, leads_entered, leads_advanced, leads_completed, leads_old,
            leads_in_window, conversion_rate, expected_days_to_convert,
            benchmark_conversion_rate, diagnosis, as_of_date
        from marts.fct_stage_conversion
        where pipeline_id = ?
        order by stage_order
        """,
        [pipeline_id],
    ).fetchall()


HEADERS = [
    "stage",
    "entered",
    "advanced",
    "completed",
    "old",
    "window",
    "CR",
    "exp.days",
    "bench",
    "diagnosis",
]


def print_block(rows: list[tuple], headlines: list[str]) -> None:
    """One pipeline's stage table and headlines."""
    if not rows:
        print("\nfct_stage_conversion is empty: no stage changes in the data.")
    else:
        table = [HEADERS] + [[format_value(v) for v in row[:-1]] for row in rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
        print(f"\nStage conversion as of {rows[0][-1]}  (CR = advanced / (completed + old))")
        for line in table:
            print(
                "  "
                + "  ".join(
                    cell.rjust(width) if i else cell.ljust(width)
                    for i, (cell, width) in enumerate(zip(line, widths, strict=True))
                )
            )
    if headlines:
        print()
        for line in headlines:
            print(line)


def main(database: Path) -> None:
    database = database.parent.resolve() / database.name  # the published link, not its build
    with duckdb.connect(str(database), read_only=True) as connection:
        print(f"\nWarehouse: {database}  (schema 'marts')")
        for mart in MARTS:
            count = connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            print(f"  marts.{mart:<34} {count:>8} rows")
        print(f"  as Parquet: {database.parent / 'marts'}/<mart>.parquet")
        files = connection.execute(
            "select status, count(*), sum(row_count) from marts.rpt_export_files "
            "group by status order by status"
        ).fetchall()
        print(
            "  files: "
            + ", ".join(
                f"{n} {status}" + (f" ({rows:,} rows)" if rows is not None else "")
                for status, n, rows in files
            )
        )
        currency = read_currency(connection)
        blocks = [
            (
                pipeline_id,
                name,
                read_stage_rows(connection, pipeline_id),
                read_headlines(connection, pipeline_id, currency),
            )
            for pipeline_id, name in read_pipelines(connection)
        ]
    if not blocks:
        print("\ndim_stages is empty: no stages configured.")
    for pipeline_id, name, rows, headlines in blocks:
        if len(blocks) > 1:
            print(f"\n== Pipeline {name} ({pipeline_id}) ==")
        print_block(rows, headlines)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "warehouse/pipeline.duckdb"))
