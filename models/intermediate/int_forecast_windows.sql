-- One row per forecast date x month ahead (docs/metrics.md section 17). The
-- forecast dates are the as-of date and each month's last day of the
-- history before it (the backtest's, so each starts a whole month). Month
-- k = 1, 2, 3 is the month of the day after the forecast date and the two
-- after it; its window runs from the later of its first instant and the
-- forecast date's as_of_at to the end of its last day, [window_start_at,
-- window_end_at). The inflow window, the three months before month 1,
-- gives the recent rate of new leads.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

forecast_dates as (

    select
        history_days.as_of_date,
        history_days.as_of_at,
        history_days.as_of_date < as_of.as_of_date as is_backtest,
        cast({{ dbt.date_trunc('month', dbt.dateadd('day', 1, 'history_days.as_of_date')) }} as date)
            as first_month
    from {{ ref('int_history_days') }} as history_days
    cross join as_of
    where
        history_days.as_of_date = as_of.as_of_date
        or cast({{ dbt.date_trunc('month', dbt.dateadd('day', 1, 'history_days.as_of_date')) }} as date)
        = cast({{ dbt.dateadd('day', 1, 'history_days.as_of_date') }} as date)

),

months_ahead as (

    {% for months_ahead in range(1, forecast_months_ahead() + 1) -%}
        select {{ months_ahead }} as months_ahead
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

months as (

    select
        forecast_dates.*,
        months_ahead.months_ahead,
        cast({{ dbt.dateadd('month', 'months_ahead.months_ahead - 1', 'forecast_dates.first_month') }} as date)
            as forecast_month,
        cast({{ dbt.dateadd('month', -3, 'forecast_dates.first_month') }} as date) as inflow_first_month
    from forecast_dates
    cross join months_ahead

),

month_days as (

    -- The day before the window's first day, and the month's last day.
    select
        *,
        case
            when months_ahead = 1 then as_of_date
            else cast({{ dbt.dateadd('day', -1, 'forecast_month') }} as date)
        end as day_before_window,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'forecast_month')) }} as date) as month_last_day,
        cast({{ dbt.dateadd('day', -1, 'inflow_first_month') }} as date) as day_before_inflow,
        cast({{ dbt.dateadd('day', -1, 'first_month') }} as date) as day_before_first_month
    from months

),

final as (

    select
        as_of_date,
        as_of_at,
        is_backtest,
        months_ahead,
        forecast_month,
        {{ business_day_end('day_before_window') }} as window_start_at,
        {{ business_day_end('month_last_day') }} as window_end_at,
        cast(
            {{ dbt.datediff('day_before_window', 'month_last_day', 'day') }}
            as {{ dbt.type_int() }}
        ) as window_days,
        {{ business_day_end('day_before_inflow') }} as inflow_start_at,
        {{ business_day_end('day_before_first_month') }} as inflow_end_at,
        cast(
            {{ dbt.datediff('inflow_first_month', 'first_month', 'day') }}
            as {{ dbt.type_int() }}
        ) as inflow_days
    from month_days

)

select * from final
