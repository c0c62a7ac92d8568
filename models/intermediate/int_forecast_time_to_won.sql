-- One row per forecast date x open stage x time a visit of the stage was
-- won at (docs/metrics.md section 17): W, the Kaplan-Meier share of the
-- stage's won deals not yet won, over (from_microseconds,
-- to_microseconds] after the visit began (to empty: for ever after). W is
-- 1 up to the first row's from_microseconds. As of each forecast date: a
-- visit entered before its as_of_at is an event at the time its lead was
-- next won, if that was before as_of_at; else censored at as_of_at while
-- the lead is open then; else (lost then) left out: the win probability
-- counts it.
with

forecast_dates as (

    select distinct
        as_of_date,
        as_of_at
    from {{ ref('int_forecast_windows') }}

),

visits as (

    select
        lead_id,
        stage_key,
        stage_type,
        entered_at,
        min(case when stage_type = 'won' then entered_at end) over (
            partition by lead_id
            order by visit_number
            rows between 1 following and unbounded following
        ) as won_at
    from {{ ref('int_lead_stage_visits_collapsed') }}

),

observed as (

    select
        forecast_dates.as_of_date,
        visits.stage_key,
        case
            when visits.won_at < forecast_dates.as_of_at
                then {{ microseconds_between('visits.entered_at', 'visits.won_at') }}
            else {{ microseconds_between('visits.entered_at', 'forecast_dates.as_of_at') }}
        end as observed_microseconds,
        case when visits.won_at < forecast_dates.as_of_at then 1 else 0 end as is_won
    from visits
    inner join forecast_dates
        on visits.entered_at < forecast_dates.as_of_at
    left join {{ ref('int_forecast_open_leads') }} as open_leads
        on
            forecast_dates.as_of_date = open_leads.as_of_date
            and visits.lead_id = open_leads.lead_id
    where
        visits.stage_type = 'open'
        and (visits.won_at < forecast_dates.as_of_at or open_leads.lead_id is not null)

),

{{ kaplan_meier_survival_ctes('observed', ['as_of_date', 'stage_key'], 'is_won') }},

final as (

    select
        as_of_date,
        stage_key,
        observed_microseconds as from_microseconds,
        lead(observed_microseconds) over (
            partition by as_of_date, stage_key
            order by observed_microseconds
        ) as to_microseconds,
        share_remaining as share_not_won
    from survival

)

select * from final
