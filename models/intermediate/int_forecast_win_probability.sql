-- One row per forecast date x open stage: win_probability as a build dated
-- that day gives it (docs/metrics.md sections 5 and 17), the chain of
-- win_probability_ctes over that day's cohort counts (the history,
-- fct_stage_conversion_daily) and that day's flows: the cohort leads
-- advanced past the stage before the day's as_of_at, by the stage they
-- advanced into. Today's row equals int_stage_win_probability.
with

forecast_dates as (

    select distinct
        as_of_date,
        as_of_at
    from {{ ref('int_forecast_windows') }}

),

conversion as (

    select
        daily.as_of_date,
        daily.stage_key,
        daily.leads_completed,
        daily.leads_old
    from {{ ref('fct_stage_conversion_daily') }} as daily
    inner join forecast_dates
        on daily.as_of_date = forecast_dates.as_of_date

),

flows as (

    select
        forecast_dates.as_of_date,
        spans.stage_key,
        advancing_visits.stage_key as to_stage_key,
        count(*) as leads_advanced_to
    from {{ ref('int_stage_cohort_spans') }} as spans
    inner join forecast_dates
        on spans.advanced_at < forecast_dates.as_of_at
    inner join {{ ref('int_lead_stage_visits_collapsed') }} as advancing_visits
        on
            spans.lead_id = advancing_visits.lead_id
            and spans.advancing_visit_number = advancing_visits.visit_number
    group by
        forecast_dates.as_of_date,
        spans.stage_key,
        advancing_visits.stage_key

),

won as (

    select
        forecast_dates.as_of_date,
        pipeline_stages.stage_key
    from forecast_dates
    cross join {{ ref('int_pipeline_stages_ordered') }} as pipeline_stages
    where pipeline_stages.stage_type = 'won'

),

{{ win_probability_ctes('conversion', 'flows', 'won', ['as_of_date']) }},

final as (

    select * from win_probabilities

)

select * from final
