-- How each open stage moved between the as-of date and the day
-- conversion_change_days (var, default 28) earlier (docs/metrics.md section
-- 13): conversion rate, old leads and pending leads then and now, read from
-- the history fct_stage_conversion_daily. The earlier values (and so the
-- changes) are empty when that day is before the history's first
-- (var history_start).
with

conversion as (

    select * from {{ ref('fct_stage_conversion') }}

),

history as (

    select * from {{ ref('fct_stage_conversion_daily') }}

),

compared as (

    select
        conversion.as_of_date,
        cast({{ dbt.dateadd('day', -conversion_change_days(), 'conversion.as_of_date') }} as date) as compared_date,
        conversion.pipeline_id,
        conversion.pipeline_name,
        conversion.stage_key,
        conversion.stage_order,
        conversion.conversion_rate,
        conversion.leads_old,
        conversion.leads_old + conversion.leads_in_window as leads_pending
    from conversion

),

final as (

    select
        compared.as_of_date,
        compared.compared_date,
        compared.pipeline_id,
        compared.pipeline_name,
        compared.stage_key,
        compared.stage_order,
        cast(earlier.conversion_rate as {{ type_double() }}) as earlier_conversion_rate,
        compared.conversion_rate,
        compared.conversion_rate - cast(earlier.conversion_rate as {{ type_double() }}) as conversion_rate_change,
        cast(earlier.leads_old as {{ dbt.type_int() }}) as earlier_leads_old,
        cast(compared.leads_old as {{ dbt.type_int() }}) as leads_old,
        cast(compared.leads_old - earlier.leads_old as {{ dbt.type_int() }}) as leads_old_change,
        cast(earlier.leads_old + earlier.leads_in_window as {{ dbt.type_int() }}) as earlier_leads_pending,
        cast(compared.leads_pending as {{ dbt.type_int() }}) as leads_pending,
        cast(compared.leads_pending - (earlier.leads_old + earlier.leads_in_window) as {{ dbt.type_int() }})
            as leads_pending_change
    from compared
    left join history as earlier
        on
            compared.stage_key = earlier.stage_key
            and compared.compared_date = earlier.as_of_date

)

select * from final
