-- Per open stage: the average days a visit takes to advance and the
-- expected days to convert derived from it (spec section 3).
with

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

advanced_visits as (

    select
        stage_key,
        dwell_days
    from {{ ref('int_lead_stage_visits_collapsed') }}
    where exit_type = 'advanced'

),

averaged as (

    select
        stages.stage_key,
        stages.default_expected_days,
        avg(advanced_visits.dwell_days) as avg_days_to_advance
    from stages
    left join advanced_visits
        on stages.stage_key = advanced_visits.stage_key
    group by
        stages.stage_key,
        stages.default_expected_days

),

final as (

    select
        stage_key,
        avg_days_to_advance,
        {{ expected_days_to_convert('avg_days_to_advance', 'default_expected_days') }} as expected_days_to_convert
    from averaged

)

select * from final
