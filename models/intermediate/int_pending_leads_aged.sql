-- One row per pending lead: a lead in an open stage's cohort that has not
-- completed it, aged as of as_of_date, and either old (past the stage's
-- expected days to convert) or in the window (docs/metrics.md section 4). Everything
-- that moves with the as-of date is here, so the visits themselves can be
-- refreshed incrementally. A view: it changes with every as-of date, and
-- computing it is cheaper than copying it.
{{ config(materialized='view') }}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

pending as (

    select
        lead_id,
        stage_key,
        pending_since
    from {{ ref('int_lead_stage_cohorts') }}
    where pending_since is not null

),

thresholds as (

    select * from {{ ref('int_stage_thresholds_derived') }}

),

aged as (

    select
        pending.lead_id,
        pending.stage_key,
        pending.pending_since as entered_at,
        {{ days_in_stage('pending.pending_since', 'as_of.as_of_at') }} as days_in_stage,
        thresholds.expected_days_to_convert
    from pending
    cross join as_of
    inner join thresholds
        on pending.stage_key = thresholds.stage_key

),

final as (

    select
        lead_id,
        stage_key,
        entered_at,
        days_in_stage,
        expected_days_to_convert,
        {{ is_past_threshold('days_in_stage', 'expected_days_to_convert') }} as is_old
    from aged

)

select * from final
