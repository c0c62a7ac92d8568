-- One row per day from 2000-01-01 through 2054-10-18 (20,000 days): the
-- time spine MetricFlow joins metric_time to. Built from a cross join of
-- digits so that it runs the same on every engine.
with

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

day_numbers as (

    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_number
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands
    where ten_thousands.digit < 2

),

final as (

    select
        cast(
            {{ dbt.dateadd('day', 'day_number', "cast('2000-01-01' as date)") }}
            as date
        ) as date_day
    from day_numbers

)

select * from final
