-- One row per day from 2000-01-01 through 2054-10-18 (20,000 days): the
-- time spine MetricFlow joins metric_time to.
with

day_numbers as (

    {{ whole_numbers(5) }}

),

final as (

    select
        cast(
            {{ dbt.dateadd('day', 'n', "cast('2000-01-01' as date)") }}
            as date
        ) as date_day
    from day_numbers
    where n < 20000

)

select * from final
