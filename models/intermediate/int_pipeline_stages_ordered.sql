-- The configured stages with what the rest of the warehouse derives from
-- them: the tie-break rank for events at the same instant (stage_order,
-- lost stages last, then stage_key; docs/metrics.md section 2), the next stage a lead
-- advances to, and the stage's benchmark.
with

stages as (

    select * from {{ ref('stg_config__pipeline_stages') }}

),

benchmarks as (

    select * from {{ ref('stg_config__stage_benchmarks') }}

),

ranked as (

    select
        stage_key,
        stage_name,
        stage_order,
        stage_type,
        default_expected_days,
        cast(row_number() over (
            order by
                case when stage_type = 'lost' then 1 else 0 end,
                stage_order,
                stage_key
        ) as {{ dbt.type_bigint() }}) as event_tiebreak_rank
    from stages

),

progression as (

    -- Open and won stages form the ordered path a lead advances along.
    select
        stage_key,
        lead(stage_key) over (order by stage_order) as next_stage_key
    from stages
    where stage_type in ('open', 'won')

),

final as (

    select
        ranked.stage_key,
        ranked.stage_name,
        ranked.stage_order,
        ranked.stage_type,
        ranked.default_expected_days,
        ranked.event_tiebreak_rank,
        -- One bit per stage, so a set of stages fits in one bigint (53 at
        -- most, exact in a double; a test on this model checks).
        cast(power(2, ranked.event_tiebreak_rank - 1) as {{ dbt.type_bigint() }}) as stage_bit,
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
