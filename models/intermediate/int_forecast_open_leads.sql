-- One row per forecast date x open lead then (docs/metrics.md section 17):
-- the lead's visit of an open stage that spans the date's as_of_at, with
-- its age, whether it was old then (section 4, as fct_pipeline_movement
-- reads it: pending in the stage's cohort and past that day's threshold),
-- its owner and its amount in the reporting currency (today's: amounts are
-- not kept by date). The open pipeline the forecast and the naive weighted
-- pipeline start from.
with

forecast_dates as (

    select distinct
        as_of_date,
        as_of_at,
        is_backtest
    from {{ ref('int_forecast_windows') }}

),

final as (

    select
        forecast_dates.as_of_date,
        forecast_dates.as_of_at,
        forecast_dates.is_backtest,
        open_stage_visits.lead_id,
        open_stage_visits.visit_number,
        open_stage_visits.pipeline_id,
        open_stage_visits.stage_key,
        open_stage_visits.entered_at,
        {{ microseconds_between('open_stage_visits.entered_at', 'forecast_dates.as_of_at') }} as age_microseconds,
        open_stage_visits.is_pending
        and {{ is_past_threshold(
            days_in_stage('open_stage_visits.entered_at', 'forecast_dates.as_of_at'),
            'thresholds.expected_days_to_convert'
        ) }} as is_old,
        leads.owner_id,
        amounts.deal_amount_reporting
    from {{ ref('int_lead_open_stage_visits') }} as open_stage_visits
    inner join forecast_dates
        on
            open_stage_visits.entered_at < forecast_dates.as_of_at
            and (open_stage_visits.exited_at is null or open_stage_visits.exited_at >= forecast_dates.as_of_at)
    left join {{ ref('int_stage_thresholds_daily') }} as thresholds
        on
            forecast_dates.as_of_date = thresholds.as_of_date
            and open_stage_visits.stage_key = thresholds.stage_key
    left join {{ ref('int_lead_outcomes') }} as leads
        on open_stage_visits.lead_id = leads.lead_id
    left join {{ ref('int_lead_amounts') }} as amounts
        on open_stage_visits.lead_id = amounts.lead_id

)

select * from final
