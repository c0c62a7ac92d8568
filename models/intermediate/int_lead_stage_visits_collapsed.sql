-- One row per lead x visit (docs/metrics.md sections 2 and 4): the lead's events
-- before as_of_at, in event order, collapsed into maximal runs of the same
-- stage, each with how and when it was left, and the cohort flags the
-- conversion is counted from. Nothing here moves with the as-of date (days
-- in stage are aged in int_pending_leads_aged), so a refresh recomputes
-- only the leads with new or changed stage changes.
{{
    config(
        materialized=lead_refresh_materialization(),
        incremental_strategy='delete+insert',
        unique_key='lead_id',
        on_schema_change='fail',
        post_hook="{{ drop_rows_no_lead_has('entered_at') }}",
    )
}}
{#- The post-hook reads the quarantined leads: a dependency dbt must know. -#}
{%- set checked_leads = ref('int_leads_checked') %}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

{% if is_incremental() -%}
stored as (

    -- The newest rows the stored visits were built from, and the as-of
    -- instant they were built with.
    {{ last_build() }}

),

changed_leads as (

    -- Leads with stage changes written since the last build, and leads with
    -- events the new as-of date takes in; moved back, it leaves events out
    -- of any lead's visits, so every lead is rebuilt.
    select transitions.lead_id
    from {{ ref('int_lead_transitions_checked') }} as transitions
    cross join stored
    cross join as_of
    where
        transitions.loaded_at > stored.loaded_at
        or transitions.rejection_reason is null
        and (
            as_of.as_of_at < stored.as_of_at
            or transitions.entered_at >= stored.as_of_at and transitions.entered_at < as_of.as_of_at
        )

),

{% endif -%}
events as (

    -- Accepted stage changes that exist as of the as-of date. The stage
    -- travels as its tie-break rank, an integer unique per stage, so the
    -- two sorts below carry integers, not texts; its key, type and order
    -- are joined back after them.
    select
        transitions.lead_id,
        transitions.entered_at,
        transitions.event_tiebreak_rank
    from {{ ref('int_lead_transitions_checked') }} as transitions
    inner join as_of
        on transitions.entered_at < as_of.as_of_at
    where transitions.rejection_reason is null
    {%- if is_incremental() %}
        and transitions.lead_id in (select lead_id from changed_leads)
    {%- endif %}

),

run_starts as (

    -- An event starts a visit unless the event before it has the same
    -- stage; the visit enters at its first event, so the later events of a
    -- run (re-saves) are simply left out.
    select
        lead_id,
        entered_at,
        event_tiebreak_rank,
        lag(event_tiebreak_rank) over (
            partition by lead_id
            order by entered_at, event_tiebreak_rank
        ) as previous_tiebreak_rank
    from events

),

visit_starts as (

    select
        run_starts.lead_id,
        run_starts.entered_at,
        run_starts.event_tiebreak_rank,
        stages.stage_bit,
        case when stages.stage_type in ('open', 'won') then stages.stage_order end as path_stage_order
    from run_starts
    inner join stages
        on run_starts.event_tiebreak_rank = stages.event_tiebreak_rank
    where
        run_starts.previous_tiebreak_rank is null
        or run_starts.previous_tiebreak_rank != run_starts.event_tiebreak_rank

),

visits as (

    -- One pass over each lead's visits in order.
    select
        lead_id,
        event_tiebreak_rank,
        stage_bit,
        entered_at,
        row_number() over lead_visits as visit_number,
        lead(event_tiebreak_rank) over lead_visits as next_tiebreak_rank,
        lead(entered_at) over lead_visits as exited_at,
        -- Highest open/won stage_order among the lead's later visits: a
        -- visit of a lower stage followed by it was advanced past.
        max(path_stage_order) over later_visits as max_later_stage_order,
        -- The stages the lead visited before this visit, a bit each.
        bit_or(stage_bit) over earlier_visits as earlier_stage_bits,
        last_value(event_tiebreak_rank) over whole_lead as current_tiebreak_rank,
        last_value(entered_at) over whole_lead as current_entered_at
    from visit_starts
    -- Each window spelled out: Spark cannot add a frame to a named window.
    window
        lead_visits as (
            partition by lead_id
            order by entered_at, event_tiebreak_rank
        ),
        later_visits as (
            partition by lead_id
            order by entered_at, event_tiebreak_rank
            rows between 1 following and unbounded following
        ),
        earlier_visits as (
            partition by lead_id
            order by entered_at, event_tiebreak_rank
            rows between unbounded preceding and 1 preceding
        ),
        whole_lead as (
            partition by lead_id
            order by entered_at, event_tiebreak_rank
            rows between unbounded preceding and unbounded following
        )

),

cohort_entries as (

    -- A lead's first visit of an open stage enters it into the stage's
    -- cohort; it completed the stage when it advanced past that visit
    -- (a skip is an advance) or is now in another stage.
    select
        visits.*,
        this_stage.stage_key,
        this_stage.stage_type,
        this_stage.stage_order,
        this_stage.stage_type = 'open' and coalesce(visits.earlier_stage_bits & visits.stage_bit, 0) = 0
            as is_cohort_entry,
        coalesce(visits.max_later_stage_order > this_stage.stage_order, false) as is_advanced_past
    from visits
    inner join stages as this_stage
        on visits.event_tiebreak_rank = this_stage.event_tiebreak_rank

),

classified as (

    select
        cohort_entries.lead_id,
        cohort_entries.visit_number,
        cohort_entries.stage_key,
        cohort_entries.stage_type,
        cohort_entries.stage_order,
        cohort_entries.entered_at,
        cohort_entries.exited_at,
        next_stage.stage_key as next_stage_key,
        case
            when cohort_entries.next_tiebreak_rank is null then 'open'
            when cohort_entries.stage_type = 'lost' and next_stage.stage_type != 'lost' then 'reopened'
            when next_stage.stage_type = 'lost' then 'lost'
            when next_stage.stage_order > cohort_entries.stage_order then 'advanced'
            else 'regressed'
        end as exit_type,
        {{ microseconds_between('cohort_entries.entered_at', 'cohort_entries.exited_at') }} as dwell_microseconds,
        cohort_entries.next_tiebreak_rank is null as is_current_visit,
        cohort_entries.is_cohort_entry,
        case when cohort_entries.is_cohort_entry then cohort_entries.is_advanced_past end as is_cohort_advanced,
        case
            when cohort_entries.is_cohort_entry
                then
                    cohort_entries.is_advanced_past
                    or cohort_entries.current_tiebreak_rank != cohort_entries.event_tiebreak_rank
        end as is_cohort_completed,
        cohort_entries.current_entered_at
    from cohort_entries
    left join stages as next_stage
        on cohort_entries.next_tiebreak_rank = next_stage.event_tiebreak_rank

),

final as (

    select
        classified.lead_id,
        cast(classified.visit_number as {{ dbt.type_int() }}) as visit_number,
        classified.stage_key,
        classified.stage_type,
        classified.stage_order,
        classified.entered_at,
        classified.exited_at,
        classified.next_stage_key,
        classified.exit_type,
        classified.dwell_microseconds,
        {{ microseconds_to_days('classified.dwell_microseconds') }} as dwell_days,
        classified.is_current_visit,
        classified.is_cohort_entry,
        classified.is_cohort_advanced,
        classified.is_cohort_completed,
        -- A lead in the cohort that has not completed it is there since its
        -- current visit (of this stage) began: old or in the window.
        case when not classified.is_cohort_completed then classified.current_entered_at end as pending_since,
        as_of.as_of_at,
        {{ run_loaded_at() }} as loaded_at
    from classified
    cross join as_of

)

select * from final
