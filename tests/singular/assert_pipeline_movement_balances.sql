-- docs/metrics.md section 16: per window, pipeline, owner and stage of
-- fct_pipeline_movement, start + arrivals - departures = end, and the end
-- is the leads in the stage now, counted apart from fct_lead_stage_visits
-- (each lead's current visit). Returns the groups where either fails.
-- Reported in Dagster as an asset check on fct_pipeline_movement.
{{ config(meta={'dagster': {'ref': {'name': 'fct_pipeline_movement'}}}) }}

with

movement as (

    select * from {{ ref('fct_pipeline_movement') }}

),

balance as (

    select
        window_days,
        pipeline_id,
        owner_id,
        stage_key,
        sum(
            case movement_group
                when 'start' then leads
                when 'arrival' then leads
                when 'departure' then -leads
                when 'end' then -leads
                else 0
            end
        ) as start_plus_arrivals_minus_departures_minus_end,
        sum(case when movement_group = 'end' then leads else 0 end) as leads_at_end
    from movement
    group by
        window_days,
        pipeline_id,
        owner_id,
        stage_key

),

in_stage_now as (

    select
        pipeline_id,
        owner_id,
        stage_key,
        count(*) as leads_in_stage
    from {{ ref('fct_lead_stage_visits') }}
    where exited_at is null
    group by
        pipeline_id,
        owner_id,
        stage_key

),

movement_windows as (

    select distinct window_days from movement

),

expected_end as (

    -- Every open stage's current leads, in every window.
    select
        movement_windows.window_days,
        in_stage_now.pipeline_id,
        in_stage_now.owner_id,
        in_stage_now.stage_key,
        in_stage_now.leads_in_stage
    from in_stage_now
    cross join movement_windows
    inner join {{ ref('dim_stages') }} as dim_stages
        on in_stage_now.stage_key = dim_stages.stage_key
    where dim_stages.stage_type = 'open'

),

final as (

    select
        coalesce(balance.window_days, expected_end.window_days) as window_days,
        coalesce(balance.stage_key, expected_end.stage_key) as stage_key,
        balance.start_plus_arrivals_minus_departures_minus_end,
        balance.leads_at_end,
        expected_end.leads_in_stage
    from balance
    full outer join expected_end
        on
            balance.window_days = expected_end.window_days
            and balance.pipeline_id = expected_end.pipeline_id
            and coalesce(balance.owner_id, '') = coalesce(expected_end.owner_id, '')
            and balance.stage_key = expected_end.stage_key
    where
        coalesce(balance.start_plus_arrivals_minus_departures_minus_end, 0) != 0
        or coalesce(balance.leads_at_end, 0) != coalesce(expected_end.leads_in_stage, 0)

)

select * from final
