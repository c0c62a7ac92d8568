-- One row per as-of date of the history (fct_stage_conversion_daily,
-- docs/metrics.md section 13): history_start (var; empty: 364 days before
-- as_of_date, a year of days) through as_of_date, each with its as_of_at,
-- the business time zone's midnight that ends it. It starts no later than
-- the first day of the longest movement window (fct_pipeline_movement
-- reads those days' thresholds). Empty with no as-of date.
{%- set history_start = history_start_literal() %}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

days_back as (

    -- 0 to 99,999 days (273 years) before the as-of date.
    {{ whole_numbers(5) }}

),

days as (

    select cast({{ dbt.dateadd('day', '-days_back.n', 'as_of.as_of_date') }} as date) as as_of_date
    from as_of
    cross join days_back
    where
        as_of.as_of_date is not null
        and (
            days_back.n <= {{ dbt.datediff(history_start, 'as_of.as_of_date', 'day') if history_start else 364 }}
            or days_back.n <= {{ movement_windows_days() | max }}
        )

),

final as (

    select
        as_of_date,
        {{ business_day_end('as_of_date') }} as as_of_at
    from days

)

select * from final
