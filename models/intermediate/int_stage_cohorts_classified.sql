-- One row per lead x open stage it ever visited: the stage's cohort, and
-- whether the lead advanced, completed the stage, is old in it, or is still
-- in the window (spec section 4).
with

visits as (

    select * from {{ ref('int_lead_stage_visits_collapsed') }}

),

thresholds as (

    select * from {{ ref('int_stage_thresholds_derived') }}

),

first_visits as (

    -- The lead's first visit of each open stage, and whether a higher open
    -- or won stage followed it at any later point (a skip is an advance).
    select
        lead_id,
        stage_key,
        stage_order,
        max_later_stage_order,
        row_number() over (
            partition by lead_id, stage_key
            order by visit_number
        ) as visit_of_stage
    from visits
    where stage_type = 'open'

),

current_visits as (

    select
        lead_id,
        stage_key as current_stage_key,
        visit_number as current_visit_number,
        entered_at as current_entered_at,
        days_in_stage as current_days_in_stage
    from visits
    where is_current_visit

),

flagged as (

    select
        first_visits.lead_id,
        first_visits.stage_key,
        current_visits.current_stage_key,
        current_visits.current_visit_number,
        current_visits.current_entered_at,
        current_visits.current_days_in_stage,
        thresholds.expected_days_to_convert,
        coalesce(first_visits.max_later_stage_order > first_visits.stage_order, false) as is_advanced
    from first_visits
    inner join current_visits
        on first_visits.lead_id = current_visits.lead_id
    inner join thresholds
        on first_visits.stage_key = thresholds.stage_key
    where first_visits.visit_of_stage = 1

),

classified as (

    select
        lead_id,
        stage_key,
        current_stage_key,
        current_visit_number,
        current_entered_at,
        current_days_in_stage,
        expected_days_to_convert,
        is_advanced,
        is_advanced or current_stage_key != stage_key as is_completed,
        {{ is_past_threshold('current_days_in_stage', 'expected_days_to_convert') }} as is_past_threshold
    from flagged

),

final as (

    select
        lead_id,
        stage_key,
        current_stage_key,
        current_visit_number,
        current_entered_at,
        current_days_in_stage,
        expected_days_to_convert,
        is_advanced,
        is_completed,
        not is_completed and is_past_threshold as is_old,
        not is_completed and not is_past_threshold as is_in_window
    from classified

)

select * from final
