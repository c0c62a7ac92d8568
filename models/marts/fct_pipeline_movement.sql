-- What moved in each open stage over the last days (docs/metrics.md section
-- 16), for each window of the var movement_windows_days (default 7 and 28
-- days back from the as-of date), per pipeline and owner: the visits in the
-- stage at the window's start, those that arrived (by the stage they came
-- from) and left (by the stage they went to), those that stayed (and became
-- old), and those in it at the end. Start + arrivals - departures = end.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

windows as (

    {% for days in movement_windows_days() -%}
        select {{ days }} as window_days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

window_bounds as (

    -- F, the end of the window's first day, and T, the as-of instant; the
    -- history holds the first day (int_history_days).
    select
        windows.window_days,
        from_day.as_of_date as from_date,
        as_of.as_of_date as to_date,
        from_day.as_of_at as from_at,
        as_of.as_of_at as to_at
    from windows
    cross join as_of
    inner join {{ ref('int_history_days') }} as from_day
        on from_day.as_of_date = cast({{ dbt.dateadd('day', '-windows.window_days', 'as_of.as_of_date') }} as date)

),

thresholds as (

    select * from {{ ref('int_stage_thresholds_daily') }}

),

open_stage_visits as (

    select * from {{ ref('int_lead_open_stage_visits') }}

),

windowed as (

    -- The visits each window sees: in the stage at F, or entered after it
    -- (a visit left before F is not).
    select
        window_bounds.window_days,
        window_bounds.from_date,
        window_bounds.to_date,
        open_stage_visits.*,
        open_stage_visits.entered_at < window_bounds.from_at as is_in_stage_at_start,
        open_stage_visits.is_pending
        and {{ is_past_threshold(
            days_in_stage('open_stage_visits.entered_at', 'window_bounds.from_at'),
            'start_threshold.expected_days_to_convert'
        ) }} as is_old_at_start,
        open_stage_visits.is_pending
        and {{ is_past_threshold(
            days_in_stage('open_stage_visits.entered_at', 'window_bounds.to_at'),
            'end_threshold.expected_days_to_convert'
        ) }} as is_old_at_end
    from open_stage_visits
    inner join window_bounds
        on open_stage_visits.exited_at is null or open_stage_visits.exited_at >= window_bounds.from_at
    left join thresholds as start_threshold
        on
            window_bounds.from_date = start_threshold.as_of_date
            and open_stage_visits.stage_key = start_threshold.stage_key
    left join thresholds as end_threshold
        on
            window_bounds.to_date = end_threshold.as_of_date
            and open_stage_visits.stage_key = end_threshold.stage_key

),

movements as (

    select
        *,
        'in_stage_at_start' as movement,
        'start' as movement_group,
        cast(null as {{ dbt.type_string() }}) as other_stage_key
    from windowed
    where is_in_stage_at_start

    union all

    -- Arrivals, by the lead's previous visit.
    select
        *,
        case
            when previous_stage_key is null then 'new'
            when previous_stage_type != 'open' then 'reopened'
            when previous_stage_order < stage_order then 'from_earlier_stage'
            else 'from_later_stage'
        end as movement,
        'arrival' as movement_group,
        case when previous_stage_type = 'open' then previous_stage_key end as other_stage_key
    from windowed
    where not is_in_stage_at_start

    union all

    -- Departures, by the lead's next visit.
    select
        *,
        case
            when next_stage_type = 'won' then 'won'
            when next_stage_type = 'lost' then 'lost'
            when next_stage_order > stage_order then 'advanced'
            else 'moved_back'
        end as movement,
        'departure' as movement_group,
        case when next_stage_type = 'open' then next_stage_key end as other_stage_key
    from windowed
    where exited_at is not null

    union all

    select
        *,
        case when is_old_at_end and not is_old_at_start then 'became_old' else 'stayed' end as movement,
        'stayed' as movement_group,
        cast(null as {{ dbt.type_string() }}) as other_stage_key
    from windowed
    where is_in_stage_at_start and exited_at is null

    union all

    select
        *,
        'in_stage_at_end' as movement,
        'end' as movement_group,
        cast(null as {{ dbt.type_string() }}) as other_stage_key
    from windowed
    where exited_at is null

),

final as (

    select
        cast(movements.window_days as {{ dbt.type_int() }}) as window_days,
        movements.from_date,
        movements.to_date,
        movements.pipeline_id,
        movements.pipeline_name,
        leads.owner_id,
        movements.stage_key,
        movements.stage_order,
        movements.movement,
        movements.movement_group,
        movements.other_stage_key,
        cast(count(*) as {{ dbt.type_int() }}) as leads,
        cast(sum(amounts.deal_amount_reporting) as {{ type_double() }}) as amount_reporting,
        {{ reporting_currency_column() }}
    from movements
    left join {{ ref('int_lead_outcomes') }} as leads
        on movements.lead_id = leads.lead_id
    left join {{ ref('int_lead_amounts') }} as amounts
        on movements.lead_id = amounts.lead_id
    group by
        movements.window_days,
        movements.from_date,
        movements.to_date,
        movements.pipeline_id,
        movements.pipeline_name,
        leads.owner_id,
        movements.stage_key,
        movements.stage_order,
        movements.movement,
        movements.movement_group,
        movements.other_stage_key

)

select * from final
