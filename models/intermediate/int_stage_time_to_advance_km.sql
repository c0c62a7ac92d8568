-- Per open stage: a Kaplan-Meier estimate of the days a visit takes to
-- advance (docs/metrics.md section 12). A visit that advanced is an event at
-- its dwell; a visit still open (at its days in stage) or left another way
-- (at its dwell) is censored there. Unlike the mean over advanced visits,
-- the estimate does not forget the leads still waiting.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

observed as (

    -- Whole microseconds, so equal times fall together exactly.
    select
        visits.stage_key,
        coalesce(
            visits.dwell_microseconds,
            {{ microseconds_between('visits.entered_at', 'as_of.as_of_at') }}
        ) as observed_microseconds,
        case when visits.exit_type = 'advanced' then 1 else 0 end as is_advanced,
        case when visits.exit_type = 'open' then 1 else 0 end as is_still_open
    from {{ ref('int_lead_stage_visits_collapsed') }} as visits
    cross join as_of
    inner join stages
        on visits.stage_key = stages.stage_key

),

{{ kaplan_meier_quantile_ctes('observed', ['stage_key']) }},

counted as (

    select
        stage_key,
        count(*) as visits_observed,
        sum(is_advanced) as visits_advanced,
        sum(is_still_open) as visits_still_open
    from observed
    group by stage_key

),

final as (

    select
        stages.stage_key,
        cast(coalesce(counted.visits_observed, 0) as {{ dbt.type_int() }}) as visits_observed,
        cast(coalesce(counted.visits_advanced, 0) as {{ dbt.type_int() }}) as visits_advanced,
        cast(coalesce(counted.visits_observed - counted.visits_advanced, 0) as {{ dbt.type_int() }})
            as visits_censored,
        cast(coalesce(counted.visits_still_open, 0) as {{ dbt.type_int() }}) as visits_still_open,
        {{ microseconds_to_days('quantiles.median_microseconds') }} as km_median_days_to_advance,
        {{ microseconds_to_days('quantiles.p75_microseconds') }} as km_p75_days_to_advance
    from stages
    left join counted
        on stages.stage_key = counted.stage_key
    left join quantiles
        on stages.stage_key = quantiles.stage_key

)

select * from final
