-- Per open stage: the average days a visit takes to advance and the
-- expected days to convert derived from it, or from the Kaplan-Meier median
-- when the expected_days_basis var says so (docs/metrics.md section 3).
{%- set basis_days = 'avg_days_to_advance' if expected_days_basis() == 'average' else 'km_median_days_to_advance' %}

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
        summed.stage_key,
        summed.default_expected_days,
        {{ microseconds_to_days(ratio('summed.advanced_microseconds', 'summed.advanced_visit_count')) }}
            as avg_days_to_advance,
        km.km_median_days_to_advance
    from summed
    inner join {{ ref('int_stage_time_to_advance_km') }} as km
        on summed.stage_key = km.stage_key

),

final as (

    select
        stage_key,
        avg_days_to_advance,
        km_median_days_to_advance,
        {{ expected_days_to_convert(basis_days, 'default_expected_days') }} as expected_days_to_convert
    from averaged_days

)

select * from final
