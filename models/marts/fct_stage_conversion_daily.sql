-- The history of fct_stage_conversion: one row per as-of date x open stage,
-- added one day at a time. Each build replaces the rows of its as_of_date
-- with what fct_stage_conversion gives for that date and keeps every other
-- day. Past days are filled by building with the var history_as_of_build
-- (see generate_schema_name), which computes them beside the published marts.
{%- set history = history_incremental_config() %}
{{
    config(
        materialized='incremental',
        incremental_strategy=history.incremental_strategy,
        partition_by=history.partition_by,
        unique_key=['as_of_date', 'stage_key'],
        on_schema_change='fail',
        tags=['history'],
    )
}}

with

conversion as (

    select * from {{ ref('fct_stage_conversion') }}

),

final as (

    select
        as_of_date,
        pipeline_id,
        pipeline_name,
        stage_key,
        stage_order,
        next_stage_key,
        leads_entered,
        leads_advanced,
        leads_completed,
        leads_old,
        leads_in_window,
        conversion_rate,
        avg_days_to_advance,
        expected_days_to_convert,
        old_lead_share,
        benchmark_conversion_rate,
        benchmark_gap,
        diagnosis
    from conversion

)

select * from final
