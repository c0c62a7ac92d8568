-- The configured pipeline stages as BI tools see them.
with

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

final as (

    select
        pipeline_id,
        pipeline_name,
        stage_key,
        stage_name,
        stage_order,
        stage_type,
        next_stage_key,
        default_expected_days,
        benchmark_conversion_rate,
        benchmark_source,
        event_tiebreak_rank
    from stages

)

select * from final
