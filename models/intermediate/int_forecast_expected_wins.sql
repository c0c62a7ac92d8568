-- One row per forecast date x month ahead x pipeline x source x owner x
-- open stage (docs/metrics.md section 17): the deals and amount expected
-- to be won in the month's window. Each open lead's chance is
--     p x (W(t1) - W(t2)) / (p x W(a) + (1 - p) x L(a))
-- (p: its stage's win probability then; W, L: how long the stage's won
-- and lost deals took; a: its age; t1, t2: its age at the window's start
-- and end). Leads
-- not created yet (source new_leads): the inflow window's daily rate of
-- leads whose first visit is the stage, over each month's window, taken
-- to start at the window's middle instant, with the chance p x (W(t1) -
-- W(t2)) from there, and the inflow window's mean won amount. Each lead's
-- shares are read once, one column per boundary (a join per boundary
-- leaves PostgreSQL's planner guessing).
{%- set months = forecast_months_ahead() %}

with

windows as (

    select * from {{ ref('int_forecast_windows') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

win_probability as (

    select * from {{ ref('int_forecast_win_probability') }}

),

curves as (

    select * from {{ ref('int_forecast_time_to_close') }}

),

open_leads as (

    select * from {{ ref('int_forecast_open_leads') }}

),

boundaries as (

    -- Boundary 0 is the forecast date's as_of_at, boundary k the end of
    -- month k's window (and so the start of month k + 1's).
    select distinct
        as_of_date,
        0 as boundary,
        as_of_at as boundary_at
    from windows
    union all
    select
        as_of_date,
        months_ahead as boundary,
        window_end_at as boundary_at
    from windows

),

new_lead_starts as (

    -- Month j's new leads start at the middle of its window.
    select
        as_of_date,
        months_ahead as start_month,
        window_days,
        window_start_at,
        cast({{ microseconds_between('window_start_at', 'window_end_at') }} as {{ type_double() }}) / 2
            as half_window_microseconds
    from windows

),

inflow as (

    -- Per forecast date and open stage: the leads whose first visit is of
    -- the stage and began in the inflow window, per day of it.
    select
        windows.as_of_date,
        first_visits.stage_key,
        cast(count(*) as {{ type_double() }}) / min(windows.inflow_days) as daily_inflow
    from {{ ref('int_lead_stage_visits_collapsed') }} as first_visits
    inner join windows
        on
            windows.months_ahead = 1
            and first_visits.entered_at >= windows.inflow_start_at
            and first_visits.entered_at < windows.inflow_end_at
    where first_visits.visit_number = 1 and first_visits.stage_type = 'open'
    group by windows.as_of_date, first_visits.stage_key

),

inflow_won_leads as (

    -- Per forecast date: each lead won in the inflow window, once.
    select distinct
        windows.as_of_date,
        won_visits.lead_id,
        won_visits.stage_key
    from {{ ref('int_lead_stage_visits_collapsed') }} as won_visits
    inner join windows
        on
            won_visits.entered_at >= windows.inflow_start_at
            and won_visits.entered_at < windows.inflow_end_at
            and windows.months_ahead = 1
    where won_visits.stage_type = 'won'

),

inflow_won_amounts as (

    -- Per forecast date and pipeline: their mean amount.
    select
        inflow_won_leads.as_of_date,
        stages.pipeline_id,
        {{ order_free_sum('amounts.deal_amount_reporting') }} / count(amounts.deal_amount_reporting) as avg_won_amount
    from inflow_won_leads
    inner join stages
        on inflow_won_leads.stage_key = stages.stage_key
    left join {{ ref('int_lead_amounts') }} as amounts
        on inflow_won_leads.lead_id = amounts.lead_id
    group by inflow_won_leads.as_of_date, stages.pipeline_id

),

outcomes as (

    select 'won' as outcome
    union all
    select 'lost' as outcome

),

points as (

    -- Every time a curve is read at: W at an open lead's age at each
    -- boundary, and L at its age now; W at a month's new leads' age (not
    -- below 0) at each boundary from their window's start on.
    select
        open_leads.as_of_date,
        open_leads.stage_key,
        open_leads.lead_id,
        cast(null as {{ dbt.type_int() }}) as start_month,
        outcomes.outcome,
        boundaries.boundary,
        cast({{ microseconds_between('open_leads.entered_at', 'boundaries.boundary_at') }} as {{ type_double() }})
            as age_microseconds
    from open_leads
    inner join boundaries
        on open_leads.as_of_date = boundaries.as_of_date
    inner join outcomes
        on outcomes.outcome = 'won' or boundaries.boundary = 0
    union all
    select
        inflow.as_of_date,
        inflow.stage_key,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        new_lead_starts.start_month,
        'won' as outcome,
        boundaries.boundary,
        greatest(
            cast(
                {{ microseconds_between('new_lead_starts.window_start_at', 'boundaries.boundary_at') }}
                as {{ type_double() }}
            ) - new_lead_starts.half_window_microseconds,
            0
        ) as age_microseconds
    from inflow
    inner join new_lead_starts
        on inflow.as_of_date = new_lead_starts.as_of_date
    inner join boundaries
        on
            inflow.as_of_date = boundaries.as_of_date
            and boundaries.boundary >= new_lead_starts.start_month - 1

),

curve_steps as (

    -- Each curve's steps numbered in time order.
    select
        as_of_date,
        stage_key,
        outcome,
        from_microseconds,
        share_remaining,
        row_number() over (
            partition by as_of_date, stage_key, outcome
            order by from_microseconds
        ) as step_number
    from curves

),

steps_and_points as (

    -- The steps and the points in one stream per curve, in time order, a
    -- point before a step at the same time (W(t) counts the events before
    -- t): each point's last step before it is the running maximum of the
    -- step numbers. An equality join back, where a range join would pair
    -- every point with every step.
    select
        as_of_date,
        stage_key,
        outcome,
        cast(from_microseconds as {{ type_double() }}) as at_microseconds,
        1 as is_step,
        step_number,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        cast(null as {{ dbt.type_int() }}) as start_month,
        cast(null as {{ dbt.type_int() }}) as boundary
    from curve_steps
    union all
    select
        as_of_date,
        stage_key,
        outcome,
        age_microseconds as at_microseconds,
        0 as is_step,
        cast(null as {{ dbt.type_bigint() }}) as step_number,
        lead_id,
        start_month,
        boundary
    from points

),

points_with_steps as (

    select
        *,
        max(step_number) over (
            partition by as_of_date, stage_key, outcome
            order by at_microseconds, is_step
            rows between unbounded preceding and current row
        ) as last_step_number
    from steps_and_points

),

shares as (

    select
        points_with_steps.as_of_date,
        points_with_steps.stage_key,
        points_with_steps.lead_id,
        points_with_steps.start_month,
        points_with_steps.outcome,
        points_with_steps.boundary,
        coalesce(curve_steps.share_remaining, 1) as share_remaining
    from points_with_steps
    left join curve_steps
        on
            points_with_steps.as_of_date = curve_steps.as_of_date
            and points_with_steps.stage_key = curve_steps.stage_key
            and points_with_steps.outcome = curve_steps.outcome
            and points_with_steps.last_step_number = curve_steps.step_number
    where points_with_steps.is_step = 0

),

lead_shares as (

    -- Per open lead, one row: W at each boundary, and L now.
    select
        as_of_date,
        lead_id,
        {% for boundary in range(months + 1) -%}
            max(case when outcome = 'won' and boundary = {{ boundary }} then share_remaining end)
                as won_share_{{ boundary }},
        {% endfor -%}
        max(case when outcome = 'lost' then share_remaining end) as lost_share_now
    from shares
    where lead_id is not null
    group by as_of_date, lead_id

),

new_lead_shares as (

    -- Per month's new leads of a stage, one row: W at each boundary.
    select
        as_of_date,
        stage_key,
        start_month,
        {% for boundary in range(months + 1) -%}
            max(case when boundary = {{ boundary }} then share_remaining end) as won_share_{{ boundary }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from shares
    where lead_id is null
    group by as_of_date, stage_key, start_month

),

lead_chances as (

    select
        windows.as_of_date,
        windows.months_ahead,
        open_leads.lead_id,
        open_leads.stage_key,
        open_leads.owner_id,
        open_leads.deal_amount_reporting,
        {{ forecast_chance(
            'win_probability.win_probability',
            share_at_boundary('lead_shares', 'windows.months_ahead - 1'),
            share_at_boundary('lead_shares', 'windows.months_ahead'),
            'lead_shares.won_share_0',
            'lead_shares.lost_share_now'
        ) }} as chance
    from open_leads
    inner join windows
        on open_leads.as_of_date = windows.as_of_date
    inner join lead_shares
        on
            open_leads.as_of_date = lead_shares.as_of_date
            and open_leads.lead_id = lead_shares.lead_id
    left join win_probability
        on
            open_leads.as_of_date = win_probability.as_of_date
            and open_leads.stage_key = win_probability.stage_key

),

new_lead_chances as (

    -- Month j's new leads won in month k >= j.
    select
        windows.as_of_date,
        windows.months_ahead,
        inflow.stage_key,
        new_lead_starts.start_month,
        inflow.daily_inflow * new_lead_starts.window_days as new_leads,
        {{ forecast_chance(
            'win_probability.win_probability',
            share_at_boundary('new_lead_shares', 'windows.months_ahead - 1'),
            share_at_boundary('new_lead_shares', 'windows.months_ahead')
        ) }} as chance
    from inflow
    inner join new_lead_starts
        on inflow.as_of_date = new_lead_starts.as_of_date
    inner join windows
        on
            inflow.as_of_date = windows.as_of_date
            and new_lead_starts.start_month <= windows.months_ahead
    inner join new_lead_shares
        on
            inflow.as_of_date = new_lead_shares.as_of_date
            and inflow.stage_key = new_lead_shares.stage_key
            and new_lead_starts.start_month = new_lead_shares.start_month
    left join win_probability
        on
            inflow.as_of_date = win_probability.as_of_date
            and inflow.stage_key = win_probability.stage_key

),

open_pipeline as (

    select
        as_of_date,
        months_ahead,
        'open_pipeline' as forecast_source,
        owner_id,
        stage_key,
        cast(count(*) as {{ type_double() }}) as leads,
        coalesce({{ order_free_sum('chance') }}, 0) as expected_won_deals,
        {{ order_free_sum('chance * deal_amount_reporting') }} as expected_won_amount
    from lead_chances
    group by as_of_date, months_ahead, owner_id, stage_key

),

new_leads as (

    select
        new_lead_chances.as_of_date,
        new_lead_chances.months_ahead,
        'new_leads' as forecast_source,
        cast(null as {{ dbt.type_string() }}) as owner_id,
        new_lead_chances.stage_key,
        sum(case when new_lead_chances.start_month = new_lead_chances.months_ahead then new_lead_chances.new_leads end)
            as leads,
        coalesce({{ order_free_sum('new_lead_chances.new_leads * new_lead_chances.chance') }}, 0)
            as expected_won_deals,
        {{ order_free_sum('new_lead_chances.new_leads * new_lead_chances.chance') }}
        * min(inflow_won_amounts.avg_won_amount)
            as expected_won_amount
    from new_lead_chances
    inner join stages
        on new_lead_chances.stage_key = stages.stage_key
    left join inflow_won_amounts
        on
            new_lead_chances.as_of_date = inflow_won_amounts.as_of_date
            and stages.pipeline_id = inflow_won_amounts.pipeline_id
    group by
        new_lead_chances.as_of_date,
        new_lead_chances.months_ahead,
        new_lead_chances.stage_key

),

final as (

    select
        sources.as_of_date,
        windows.forecast_month,
        sources.months_ahead,
        windows.is_backtest,
        stages.pipeline_id,
        stages.pipeline_name,
        sources.forecast_source,
        sources.owner_id,
        sources.stage_key,
        stages.stage_order,
        sources.leads,
        sources.expected_won_deals,
        sources.expected_won_amount
    from (
        select * from open_pipeline
        union all
        select * from new_leads
    ) as sources
    inner join windows
        on sources.as_of_date = windows.as_of_date and sources.months_ahead = windows.months_ahead
    inner join stages
        on sources.stage_key = stages.stage_key

)

select * from final
