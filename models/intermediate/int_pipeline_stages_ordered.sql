-- The configured stages with what the rest of the warehouse derives from
-- them: the tie-break rank for events at the same instant (stage_order,
-- lost stages last, then stage_key; docs/metrics.md section 2), the next stage a lead
-- advances to, and the stage's benchmark. Each is within the stage's
-- pipeline (macros/pipelines.sql).
with

stages as (

    select * from {{ ref('stg_config__pipeline_stages') }}

),

benchmarks as (

    select * from {{ ref('stg_config__stage_benchmarks') }}

),

ranked as (

    select
        pipeline_id,
        pipeline_name,
        stage_key,
        stage_name,
        stage_order,
        stage_type,
        default_expected_days,
        -- Unique across pipelines (the visits identify a stage by it), in
        -- each pipeline's order.
        cast(row_number() over (
            order by
                pipeline_id,
                case when stage_type = 'lost' then 1 else 0 end,
                stage_order,
                stage_key
        ) as {{ dbt.type_bigint() }}) as event_tiebreak_rank,
        cast(row_number() over (
            partition by pipeline_id
            order by
                case when stage_type = 'lost' then 1 else 0 end,
                stage_order,
                stage_key
        ) as {{ dbt.type_bigint() }}) as rank_in_pipeline
    from stages

),

progression as (

    -- Open and won stages form the ordered path a lead advances along.
    select
        stage_key,
        lead(stage_key) over (partition by pipeline_id order by stage_order) as next_stage_key
    from stages
    where stage_type in ('open', 'won')

),

final as (

    select
        ranked.pipeline_id,
        ranked.pipeline_name,
        ranked.stage_key,
        ranked.stage_name,
        ranked.stage_order,
        ranked.stage_type,
        ranked.default_expected_days,
        ranked.event_tiebreak_rank,
        -- One bit per stage of a pipeline, so a lead's set of stages (all
        -- in one pipeline) fits in one bigint (53 at most, exact in a
        -- double; a test on this model checks).
        cast(power(2, ranked.rank_in_pipeline - 1) as {{ dbt.type_bigint() }}) as stage_bit,
        progression.next_stage_key,
        benchmarks.benchmark_conversion_rate,
        benchmarks.benchmark_source
    from ranked
    left join progression
        on ranked.stage_key = progression.stage_key
    left join benchmarks
        on ranked.stage_key = benchmarks.stage_key

)

select * from final
