-- One row per lead x visit (spec section 2): the lead's events before
-- as_of_at, in event order, collapsed into maximal runs of the same stage,
-- each with how and when it was left.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

events as (

    -- Accepted stage changes that exist as of the as-of date.
    select
        transitions.lead_id,
        transitions.stage_key,
        transitions.entered_at,
        transitions.event_tiebreak_rank
    from {{ ref('int_lead_transitions_checked') }} as transitions
    inner join as_of
        on transitions.entered_at < as_of.as_of_at
    where transitions.rejection_reason is null

),

run_starts as (

    -- An event starts a visit unless the event before it has the same
    -- stage; the visit enters at its first event, so the later events of a
    -- run (re-saves) are simply left out.
    select
        lead_id,
        stage_key,
        entered_at,
        event_tiebreak_rank,
        lag(stage_key) over lead_events as previous_stage_key
    from events
    window lead_events as (partition by lead_id order by entered_at, event_tiebreak_rank)

),

visits as (

    select
        lead_id,
        stage_key,
        entered_at,
        cast(row_number() over (
            partition by lead_id
            order by entered_at, event_tiebreak_rank
        ) as {{ dbt.type_int() }}) as visit_number
    from run_starts
    where previous_stage_key is null or previous_stage_key != stage_key

),

with_next as (

    select
        visits.lead_id,
        visits.visit_number,
        visits.stage_key,
        visits.entered_at,
        lead(visits.stage_key) over lead_visits as next_stage_key,
        lead(visits.entered_at) over lead_visits as exited_at,
        -- Highest open/won stage_order among the lead's later visits: a
        -- visit of a lower stage followed by it was advanced past.
        max(
            case when stages.stage_type in ('open', 'won') then stages.stage_order end
        ) over (
            partition by visits.lead_id
            order by visits.visit_number
            rows between 1 following and unbounded following
        ) as max_later_stage_order,
        max(visits.visit_number) over (partition by visits.lead_id) as last_visit_number
    from visits
    inner join stages
        on visits.stage_key = stages.stage_key
    window lead_visits as (partition by visits.lead_id order by visits.visit_number)

),

classified as (

    select
        with_next.lead_id,
        with_next.visit_number,
        with_next.stage_key,
        current_stage.stage_type,
        current_stage.stage_order,
        with_next.entered_at,
        with_next.exited_at,
        with_next.next_stage_key,
        case
            when with_next.next_stage_key is null then 'open'
            when current_stage.stage_type = 'lost' and next_stage.stage_type != 'lost' then 'reopened'
            when next_stage.stage_type = 'lost' then 'lost'
            when next_stage.stage_order > current_stage.stage_order then 'advanced'
            else 'regressed'
        end as exit_type,
        {{ microseconds_between('with_next.entered_at', 'with_next.exited_at') }} as dwell_microseconds,
        case
            when with_next.exited_at is null
                then {{ microseconds_between('with_next.entered_at', 'as_of.as_of_at') }}
        end as microseconds_in_stage,
        with_next.visit_number = with_next.last_visit_number as is_current_visit,
        with_next.max_later_stage_order
    from with_next
    cross join as_of
    inner join stages as current_stage
        on with_next.stage_key = current_stage.stage_key
    left join stages as next_stage
        on with_next.next_stage_key = next_stage.stage_key

),

final as (

    select
        lead_id,
        visit_number,
        stage_key,
        stage_type,
        stage_order,
        entered_at,
        exited_at,
        next_stage_key,
        exit_type,
        dwell_microseconds,
        {{ microseconds_to_days('dwell_microseconds') }} as dwell_days,
        {{ microseconds_to_days('microseconds_in_stage') }} as days_in_stage,
        is_current_visit,
        max_later_stage_order
    from classified

)

select * from final
