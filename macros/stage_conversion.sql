{#
    stage_conversion_ctes(): the last CTEs of fct_stage_conversion and its
    history fct_stage_conversion_daily, `rated` and `final`, from a CTE
    `counted` of one row per as-of date x open stage with the stage's
    columns and counts: the rates, the benchmark gap and the diagnosis
    (docs/metrics.md sections 4 and 6), in the published column order.
#}
{% macro stage_conversion_ctes() -%}
rated as (

    select
        *,
        {{ conversion_rate('leads_advanced', 'leads_completed', 'leads_old') }} as conversion_rate,
        {{ old_lead_share('leads_completed', 'leads_old') }} as old_lead_share
    from counted

),

final as (

    select
        as_of_date,
        pipeline_id,
        pipeline_name,
        stage_key,
        stage_order,
        next_stage_key,
        cast(leads_entered as {{ dbt.type_int() }}) as leads_entered,
        cast(leads_advanced as {{ dbt.type_int() }}) as leads_advanced,
        cast(leads_completed as {{ dbt.type_int() }}) as leads_completed,
        cast(leads_old as {{ dbt.type_int() }}) as leads_old,
        cast(leads_in_window as {{ dbt.type_int() }}) as leads_in_window,
        conversion_rate,
        avg_days_to_advance,
        expected_days_to_convert,
        old_lead_share,
        benchmark_conversion_rate,
        conversion_rate - benchmark_conversion_rate as benchmark_gap,
        {{ stage_diagnosis('conversion_rate', 'benchmark_conversion_rate', 'old_lead_share') }} as diagnosis
    from rated

)
{%- endmacro %}
