-- The history of fct_stage_conversion: one row per as-of date x open stage
-- for every day of int_history_days (var history_start through as_of_date;
-- a year by default), each equal to what fct_stage_conversion gives when
-- built as of that date (docs/metrics.md section 13). Computed in one pass
-- over the visits, not one build per day: the cohort counts change only
-- on a day a lead enters or advances (summed per day first), the
-- thresholds only on a day a visit advances (int_stage_thresholds_daily),
-- and the pending leads, old or in the window, are the visits that span a
-- day's end, aged against that day's threshold.
with

days as (

    select * from {{ ref('int_history_days') }}

),

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

thresholds as (

    select * from {{ ref('int_stage_thresholds_daily') }}

),

visits as (

    select
        lead_id,
        visit_number,
        stage_key,
        entered_at,
        exited_at
    from {{ ref('int_lead_stage_visits_collapsed') }}

),

cohort_entries as (

    select * from {{ ref('int_stage_cohort_spans') }}

),

cohort_events as (

    -- The day each entry and each advance happened.
    select
        stage_key,
        cast({{ utc_to_business_time('entered_at') }} as date) as happened_on,
        1 as is_entry
    from cohort_entries
    union all
    select
        stage_key,
        cast({{ utc_to_business_time('advanced_at') }} as date) as happened_on,
        0 as is_entry
    from cohort_entries
    where advanced_at is not null

),

cohort_days as (

    select
        stage_key,
        happened_on,
        sum(is_entry) as leads_entered,
        sum(1 - is_entry) as leads_advanced
    from cohort_events
    group by
        stage_key,
        happened_on

),

cohort_counts as (

    -- Every entry and advance by the day's end.
    select
        days.as_of_date,
        cohort_days.stage_key,
        sum(cohort_days.leads_entered) as leads_entered,
        sum(cohort_days.leads_advanced) as leads_advanced
    from days
    inner join cohort_days
        on days.as_of_date >= cohort_days.happened_on
    group by
        days.as_of_date,
        cohort_days.stage_key

),

pending_visits as (

    -- A lead's visits of a stage from its cohort entry until it advanced
    -- past the stage. At a day's end inside one of them the lead is in the
    -- cohort and has not completed it, pending since the visit began; the
    -- last one, still open, lasts through the as-of date.
    select
        visits.stage_key,
        visits.entered_at,
        coalesce(visits.exited_at, as_of.as_of_at) as pending_until
    from cohort_entries
    inner join visits
        on
            cohort_entries.lead_id = visits.lead_id
            and cohort_entries.stage_key = visits.stage_key
            and cohort_entries.entry_visit_number <= visits.visit_number
            and (
                cohort_entries.advancing_visit_number is null
                or cohort_entries.advancing_visit_number > visits.visit_number
            )
    cross join as_of

),

pending_days as (

    -- The pending leads at each day's end, old when past that day's
    -- expected days to convert.
    select
        days.as_of_date,
        pending_visits.stage_key,
        count(*) as leads_pending,
        sum(
            case
                when {{ is_past_threshold(
                    days_in_stage('pending_visits.entered_at', 'days.as_of_at'),
                    'thresholds.expected_days_to_convert'
                ) }} then 1
                else 0
            end
        ) as leads_old
    from pending_visits
    inner join days
        on
            pending_visits.entered_at < days.as_of_at
            and pending_visits.pending_until >= days.as_of_at
    inner join thresholds
        on
            days.as_of_date = thresholds.as_of_date
            and pending_visits.stage_key = thresholds.stage_key
    group by
        days.as_of_date,
        pending_visits.stage_key

),

counted as (

    -- A lead in the cohort has completed it unless it is pending.
    select
        days.as_of_date,
        stages.pipeline_id,
        stages.pipeline_name,
        stages.stage_key,
        stages.stage_order,
        stages.next_stage_key,
        coalesce(cohort_counts.leads_entered, 0) as leads_entered,
        coalesce(cohort_counts.leads_advanced, 0) as leads_advanced,
        coalesce(cohort_counts.leads_entered, 0) - coalesce(pending_days.leads_pending, 0) as leads_completed,
        coalesce(pending_days.leads_old, 0) as leads_old,
        coalesce(pending_days.leads_pending, 0) - coalesce(pending_days.leads_old, 0) as leads_in_window,
        thresholds.avg_days_to_advance,
        thresholds.expected_days_to_convert,
        stages.benchmark_conversion_rate
    from days
    cross join stages
    inner join thresholds
        on
            days.as_of_date = thresholds.as_of_date
            and stages.stage_key = thresholds.stage_key
    left join cohort_counts
        on
            days.as_of_date = cohort_counts.as_of_date
            and stages.stage_key = cohort_counts.stage_key
    left join pending_days
        on
            days.as_of_date = pending_days.as_of_date
            and stages.stage_key = pending_days.stage_key

),

{{ stage_conversion_ctes() }}

select * from final
