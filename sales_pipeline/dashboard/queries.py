"""The dashboard's data: the SQL that reads the published marts, and what it returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

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
    "fct_pipeline_movement",
    "fct_revenue_forecast",
    "fct_forecast_backtest",
    "rpt_forecast_accuracy",
    "fct_stage_conversion_by_dimension",
]
# The to-do lists show up to this many old leads (the worth saving first).
TODO_LIMIT = 1000
# Dwell histograms reach this many times the expected days; longer visits
# share the last bin.
DWELL_RANGE_FACTOR = 3
DWELL_BINS = 30


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
class Forecast:
    """A pipeline's revenue forecast (docs/metrics.md section 17), from
    read_forecast: months, its months ahead (fct_revenue_forecast summed per
    source); backtest, per past month the wins against each method's
    forecast a month ahead (fct_forecast_backtest's pipeline rows); accuracy,
    rpt_forecast_accuracy's rows a month to FORECAST_MONTHS_AHEAD ahead,
    methods in FORECAST_METHODS' order. amounts: some row has an amount (an
    export without amounts has none: then deals, not money)."""

    months: Rows
    backtest: Rows
    accuracy: Rows
    amounts: bool


@dataclass
class PipelineData:
    """One pipeline's part of the page: every row read with its pipeline_id
    bound, so a section shows that pipeline's numbers only."""

    pipeline_id: str
    pipeline_name: str
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
    # The pipeline's open leads over the shortest movement window (read_movement).
    movement: dict[str, object] | None
    # The coming months' forecast and how well it did on past months (read_forecast).
    forecast: Forecast
    # The ISO code of every amount (the marts' reporting_currency).
    currency: str
    # Per rep, source and segment (DIMENSIONS): won, win rate, conversion
    # per stage, stalled and open leads (read_dimension).
    dimensions: dict[str, Rows]
    # Some lead has a deal amount: an export without amounts (Pipedrive's)
    # has none, and its sums of amounts are 0, not money.
    has_amounts: bool


@dataclass
class DashboardData:
    """What the page shows, read from the marts in one read-only connection:
    a part per pipeline (dim_stages' pipelines, by name)."""

    as_of_date: dt.date | None
    pipelines: list[PipelineData]
    currency: str
    # Each mart column's description, the dbt docs that persist_docs writes
    # into the warehouse as comments: {"mart.column": text} (read_definitions).
    definitions: dict[str, str]


def read_currency(connection: duckdb.DuckDBPyConnection) -> str:
    """The marts' reporting currency (docs/metrics.md section 15)."""
    row = connection.execute(
        "select max(reporting_currency) from marts.fct_pipeline_value"
    ).fetchone()
    return str((row[0] if row else None) or "USD")


def read_pipelines(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(pipeline_id, pipeline_name) of each pipeline, by name."""
    rows = connection.execute(
        "select pipeline_id, any_value(pipeline_name) from marts.dim_stages "
        "group by pipeline_id order by 2, 1"
    ).fetchall()
    return [(str(pipeline_id), str(name or pipeline_id)) for pipeline_id, name in rows]


def read_dashboard_data(connection: duckdb.DuckDBPyConnection) -> DashboardData:
    currency = read_currency(connection)
    as_of_row = connection.execute("select max(as_of_date) from marts.fct_stage_conversion")
    as_of_date = as_of_row.fetchone()[0]
    return DashboardData(
        as_of_date=as_of_date,
        pipelines=[
            read_pipeline(connection, pipeline_id, name, currency)
            for pipeline_id, name in read_pipelines(connection)
        ],
        currency=currency,
        definitions=read_definitions(connection),
    )


def read_definitions(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The marts' column descriptions from the warehouse's comments (dbt's
    persist_docs, dbt_project.yml): the glossary's one source of words."""
    rows = connection.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where schema_name = 'marts' and comment is not null and comment <> ''"
    ).fetchall()
    return {f"{table}.{column}": str(comment) for table, column, comment in rows}


def read_pipeline(
    connection: duckdb.DuckDBPyConnection,
    pipeline_id: str,
    pipeline_name: str,
    currency: str,
) -> PipelineData:
    """One pipeline's rows of each mart (pipeline_id a bound parameter)."""
    stages = read(
        connection,
        """
        select c.*, d.stage_name
        from marts.fct_stage_conversion as c
        inner join marts.dim_stages as d on c.stage_key = d.stage_key
        where c.pipeline_id = ?
        order by c.stage_order
        """,
        pipeline_id,
    )
    pipeline_total_rows = read(
        connection,
        "select * from marts.fct_pipeline_value where pipeline_id = ? and stage_key is null",
        pipeline_id,
    ).rows
    pipeline_total = pipeline_total_rows[0] if pipeline_total_rows else None
    # The pipeline's next target month: the first after the as-of date
    # (fct_pipeline_value's total row).
    target_month = pipeline_total["target_month"] if pipeline_total else None
    plan = read(
        connection,
        """
        select * from marts.fct_pipeline_plan
        where pipeline_id = ? and target_month = ?
        order by stage_order
        """,
        pipeline_id,
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
            where c.pipeline_id = ?
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
        pipeline_id,
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
        where pipeline_id = ?
        group by all
        order by old_leads desc, owner
        """,
        pipeline_id,
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
            o.segment,
            o.deal_amount_reporting,
            o.is_likely_dead
        from marts.rpt_old_leads as o
        inner join marts.dim_stages as d on o.stage_key = d.stage_key
        where o.pipeline_id = ?
        -- What a rep can still save first: the recently overdue, then the
        -- likely dead (rpt_old_leads.is_likely_dead), each least overdue first.
        order by o.is_likely_dead, o.days_overdue, o.lead_id
        limit {TODO_LIMIT}
        """,
        pipeline_id,
    )
    old_lead_count = connection.execute(
        "select count(*) from marts.rpt_old_leads where pipeline_id = ?", [pipeline_id]
    ).fetchone()[0]
    history = read(
        connection,
        """
        select h.as_of_date, h.stage_key, d.stage_name, h.stage_order, h.conversion_rate
        from marts.fct_stage_conversion_daily as h
        inner join marts.dim_stages as d on h.stage_key = d.stage_key
        where d.pipeline_id = ?
        order by h.stage_order, h.as_of_date
        """,
        pipeline_id,
    )
    win_rows = read(
        connection,
        "select * from marts.fct_win_rates where pipeline_id = ? and dimension = 'overall'",
        pipeline_id,
    )
    pipeline_stages = read(
        connection,
        """
        select p.*, d.stage_name
        from marts.fct_pipeline_value as p
        inner join marts.dim_stages as d on p.stage_key = d.stage_key
        where p.pipeline_id = ?
        order by p.stage_order
        """,
        pipeline_id,
    )
    return PipelineData(
        pipeline_id=pipeline_id,
        pipeline_name=pipeline_name,
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
        movement=read_movement(connection, pipeline_id),
        forecast=read_forecast(connection, pipeline_id),
        currency=currency,
        dimensions={
            dimension: read_dimension(connection, pipeline_id, dimension)
            for dimension in DIMENSIONS
        },
        has_amounts=connection.execute(
            "select count(deal_amount_reporting) > 0 from marts.fct_lead_stage_visits "
            "where pipeline_id = ?",
            [pipeline_id],
        ).fetchone()[0],
    )


# The dimensions of fct_win_rates and fct_stage_conversion_by_dimension the
# page shows a table of, in its words.
DIMENSIONS = {"owner_id": "Rep", "lead_source": "Source", "segment": "Segment"}


def read_dimension(connection: duckdb.DuckDBPyConnection, pipeline_id: str, dimension: str) -> Rows:
    """One row per value of a dimension (a rep, a source, a segment): its
    won and decided leads, win rate and average won deal (fct_win_rates),
    each stage's conversion rate as conversion_<stage_key> and its stalled
    leads (fct_stage_conversion_by_dimension), and its open leads not old
    and their amount (fct_lead_stage_visits' current visits of open stages:
    fct_pipeline_value's pipeline_usd, split by the dimension)."""
    if dimension not in DIMENSIONS:  # a column name: never text from outside
        raise ValueError(f"unknown dimension {dimension!r}")
    stage_keys = [
        row[0]
        for row in connection.execute(
            "select stage_key from marts.fct_stage_conversion where pipeline_id = ? "
            "order by stage_order",
            [pipeline_id],
        ).fetchall()
    ]
    # One column per stage, named by its position: a stage key is data.
    per_stage = "".join(
        f",\n max(case when stage_key = ? then conversion_rate end) as conversion_{number}"
        for number in range(len(stage_keys))
    )
    rows = read(
        connection,
        f"""
        with conversion as (
            select
                dimension_value
                {per_stage},
                sum(leads_old) as leads_old
            from marts.fct_stage_conversion_by_dimension
            where pipeline_id = ? and dimension = ?
            group by dimension_value
        ),
        wins as (
            select dimension_value, leads_won, leads_decided, win_rate, avg_won_deal_usd
            from marts.fct_win_rates
            where pipeline_id = ? and dimension = ?
        ),
        open_leads as (
            select
                v.{dimension} as dimension_value,
                count(*) as leads_open,
                sum(v.deal_amount_reporting) as pipeline_amount
            from marts.fct_lead_stage_visits as v
            inner join marts.dim_stages as d on v.stage_key = d.stage_key
            where
                v.pipeline_id = ? and v.exit_type = 'open' and not v.is_old
                and d.stage_type = 'open'
            group by v.{dimension}
        )
        select
            coalesce(c.dimension_value, w.dimension_value, o.dimension_value) as dimension_value,
            w.leads_won,
            w.leads_decided,
            w.win_rate,
            w.avg_won_deal_usd,
            c.* exclude (dimension_value, leads_old),
            coalesce(c.leads_old, 0) as leads_old,
            coalesce(o.leads_open, 0) as leads_open,
            o.pipeline_amount
        from conversion as c
        full outer join wins as w on c.dimension_value is not distinct from w.dimension_value
        full outer join open_leads as o
            on coalesce(c.dimension_value, w.dimension_value) is not distinct from o.dimension_value
        order by 1 nulls last
        """,
        *stage_keys,
        pipeline_id,
        dimension,
        pipeline_id,
        dimension,
        pipeline_id,
    )
    for row in rows:  # conversion_<position> -> conversion_<stage_key>
        for number, key in enumerate(stage_keys):
            row[f"conversion_{key}"] = row.pop(f"conversion_{number}")
    return rows


# The pipeline-wide moves of fct_pipeline_movement: between its open stages
# the moves cancel out (an advance out of one stage is an arrival in the
# next), so its open leads change only by these.
PIPELINE_MOVES = ("new", "reopened", "won", "lost")


def read_movement(connection: duckdb.DuckDBPyConnection, pipeline_id: str) -> dict | None:
    """A pipeline's open leads over the shortest movement window: at its
    start, the new and reopened ones, the won and lost ones (and the won
    amount), at its end, and those that became old (docs/metrics.md
    section 16). None without movement rows."""
    moves = ",\n".join(
        f"sum(case when movement = '{move}' then leads else 0 end) as {move}"
        for move in PIPELINE_MOVES
    )
    cursor = connection.execute(
        f"""
        select
            window_days, from_date, to_date,
            sum(case when movement = 'in_stage_at_start' then leads else 0 end) as at_start,
            {moves},
            sum(case when movement = 'won' then amount_reporting end) as won_amount,
            sum(case when movement = 'became_old' then leads else 0 end) as became_old,
            sum(case when movement = 'in_stage_at_end' then leads else 0 end) as at_end
        from marts.fct_pipeline_movement
        where
            pipeline_id = ?
            and window_days = (select min(window_days) from marts.fct_pipeline_movement)
        group by window_days, from_date, to_date
        """,
        [pipeline_id],
    )
    row = cursor.fetchone()
    return (
        dict(zip([column[0] for column in cursor.description], row, strict=True)) if row else None
    )


# fct_forecast_backtest's methods (rpt_forecast_accuracy's), the model first.
FORECAST_METHODS = ("model", "weighted_pipeline", "last_3_months_average")
# fct_revenue_forecast's sources: the leads open on the as-of date, and the
# leads not created yet.
FORECAST_SOURCES = ("open_pipeline", "new_leads")
# The accuracy shown: forecasts made a month to this many months ahead.
FORECAST_MONTHS_AHEAD = 3


def read_forecast(connection: duckdb.DuckDBPyConnection, pipeline_id: str) -> Forecast:
    """A pipeline's forecast of the coming months per source (the expected
    won deals and amount, and the leads), its past months a month ahead per
    method against the wins, and its accuracy (docs/metrics.md section 17)."""
    by_source = ",\n".join(
        f"sum(case when forecast_source = '{source}' then leads else 0 end) as {source}_leads,\n"
        f"sum(case when forecast_source = '{source}' then expected_won_deals else 0 end) "
        f"as {source}_deals,\n"
        f"sum(case when forecast_source = '{source}' then expected_won_amount end) "
        f"as {source}_amount"
        for source in FORECAST_SOURCES
    )
    months = read(
        connection,
        f"""
        select
            months_ahead,
            forecast_month,
            max(as_of_date) as as_of_date,
            {by_source},
            sum(expected_won_deals) as won_deals,
            sum(expected_won_amount) as won_amount
        from marts.fct_revenue_forecast
        where pipeline_id = ?
        group by months_ahead, forecast_month
        order by months_ahead
        """,
        pipeline_id,
    )
    by_method = ",\n".join(
        f"max(case when forecast_method = '{method}' then forecast_won_deals end) "
        f"as {method}_deals,\n"
        f"max(case when forecast_method = '{method}' then forecast_won_amount end) "
        f"as {method}_amount"
        for method in FORECAST_METHODS
    )
    backtest = read(
        connection,
        f"""
        select
            forecast_month,
            max(actual_won_deals) as actual_won_deals,
            max(actual_won_amount) as actual_won_amount,
            {by_method}
        from marts.fct_forecast_backtest
        where pipeline_id = ? and months_ahead = 1 and stage_key is null
        group by forecast_month
        order by forecast_month
        """,
        pipeline_id,
    )
    accuracy = read(
        connection,
        """
        select forecast_method, months_ahead, months_compared,
            mean_absolute_percentage_error, bias
        from marts.rpt_forecast_accuracy
        where pipeline_id = ? and months_ahead between 1 and ?
        """,
        pipeline_id,
        FORECAST_MONTHS_AHEAD,
    )
    # In FORECAST_METHODS' order, a month ahead first.
    accuracy.rows.sort(
        key=lambda row: (row["months_ahead"], FORECAST_METHODS.index(row["forecast_method"]))
    )
    amounts = any(row["won_amount"] is not None for row in months) or any(
        row["actual_won_amount"] or row[f"{method}_amount"]
        for row in backtest
        for method in FORECAST_METHODS
    )
    return Forecast(months=months, backtest=backtest, accuracy=accuracy, amounts=amounts)
