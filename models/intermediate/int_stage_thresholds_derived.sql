-- Per open stage: the average days a visit takes to advance and the
-- expected days to convert derived from it (docs/metrics.md section 3).
with

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

advanced_visits as (

    select
        stage_key,
        dwell_microseconds
    from {{ ref('int_lead_stage_visits_collapsed') }}
    where exit_type = 'advanced'

),

summed as (

    select
        stages.stage_key,
        stages.default_expected_days,
        -- Whole microseconds summed exactly, so the mean does not depend on
        -- the order the engine adds them in.
        sum(advanced_visits.dwell_microseconds) as advanced_microseconds,
        count(advanced_visits.dwell_microseconds) as advanced_visit_count
    from stages
    left join advanced_visits
        on stages.stage_key = advanced_visits.stage_key
    group by
        stages.stage_key,
        stages.default_expected_days

),

averaged_days as (

    select
        stage_key,
        default_expected_days,
        {{ microseconds_to_days(ratio('advanced_microseconds', 'advanced_visit_count')) }} as avg_days_to_advance
    from summed

),

final as (

    select
        stage_key,
        avg_days_to_advance,
        {{ expected_days_to_convert('avg_days_to_advance', 'default_expected_days') }} as expected_days_to_convert
    from averaged_days

)

select * from final
