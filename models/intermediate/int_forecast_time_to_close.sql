-- One row per forecast date x open stage x outcome (won, lost) x time a
-- visit of the stage reached it (docs/metrics.md section 17): the
-- Kaplan-Meier share of the stage's visits with that outcome that had not
-- reached it yet, over (from_microseconds, to_microseconds] after the
-- visit began (to empty: for ever after); the share is 1 before the first
-- row. As of each forecast date, a visit entered before its as_of_at:
-- - won: an event at the time its lead was next won, if that was before
--   as_of_at; else censored at as_of_at while the lead is open then; else
--   (lost then) left out;
-- - lost: censored at as_of_at while the lead is open then; else, unless
--   it is a won event, the lead is lost then: an event at the time it was
--   next lost.
-- W (won) spreads a lead's win over time; W and L (lost) together say how
-- likely a lead still open at its age is to be won at all.
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
        ) as won_at,
        min(case when stage_type = 'lost' then entered_at end) over (
            partition by lead_id
            order by visit_number
            rows between 1 following and unbounded following
        ) as lost_at
    from {{ ref('int_lead_stage_visits_collapsed') }}

),

dated as (

    select
        forecast_dates.as_of_date,
        forecast_dates.as_of_at,
        visits.stage_key,
        visits.entered_at,
        visits.won_at,
        visits.lost_at,
        coalesce(visits.won_at < forecast_dates.as_of_at, false) as is_won,
        open_leads.lead_id is not null as is_open
    from visits
    inner join forecast_dates
        on visits.entered_at < forecast_dates.as_of_at
    left join {{ ref('int_forecast_open_leads') }} as open_leads
        on
            forecast_dates.as_of_date = open_leads.as_of_date
            and visits.lead_id = open_leads.lead_id
    where visits.stage_type = 'open'

),

observed as (

    select
        as_of_date,
        stage_key,
        'won' as outcome,
        case
            when is_won then {{ microseconds_between('entered_at', 'won_at') }}
            else {{ microseconds_between('entered_at', 'as_of_at') }}
        end as observed_microseconds,
        case when is_won then 1 else 0 end as is_event
    from dated
    where is_won or is_open
    union all
    select
        as_of_date,
        stage_key,
        'lost' as outcome,
        case
            when is_open then {{ microseconds_between('entered_at', 'as_of_at') }}
            else {{ microseconds_between('entered_at', 'lost_at') }}
        end as observed_microseconds,
        case when is_open then 0 else 1 end as is_event
    from dated
    where not is_won and (is_open or lost_at < as_of_at)

),

{{ kaplan_meier_survival_ctes('observed', ['as_of_date', 'stage_key', 'outcome'], 'is_event') }},

final as (

    select
        as_of_date,
        stage_key,
        outcome,
        observed_microseconds as from_microseconds,
        lead(observed_microseconds) over (
            partition by as_of_date, stage_key, outcome
            order by observed_microseconds
        ) as to_microseconds,
        share_remaining
    from survival

)

select * from final
