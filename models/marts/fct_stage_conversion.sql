-- One row per open stage, as of as_of_date: the stage's cohort split into
-- advanced, completed, old and in-window leads, its conversion rate
-- CR = DL / (CQL + OQL), its thresholds and its diagnosis against the
-- benchmark (docs/metrics.md sections 3, 4 and 6).
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

thresholds as (

    select * from {{ ref('int_stage_thresholds_derived') }}

),

cohort_counts as (

    -- Each lead's entry into a stage's cohort: its first visit of the stage.
    select
        stage_key,
        count(*) as leads_entered,
        sum(case when is_advanced then 1 else 0 end) as leads_advanced,
        sum(case when is_completed then 1 else 0 end) as leads_completed
    from {{ ref('int_lead_stage_cohorts') }}
    group by stage_key

),

pending_counts as (

    -- Leads in the cohort that have not completed it: old or in the window.
    select
        stage_key,
        sum(case when is_old then 1 else 0 end) as leads_old,
        sum(case when is_old then 0 else 1 end) as leads_in_window
    from {{ ref('int_pending_leads_aged') }}
    group by stage_key

),

counted as (

    select
        as_of.as_of_date,
        stages.pipeline_id,
        stages.pipeline_name,
        stages.stage_key,
        stages.stage_order,
        stages.next_stage_key,
        coalesce(cohort_counts.leads_entered, 0) as leads_entered,
        coalesce(cohort_counts.leads_advanced, 0) as leads_advanced,
        coalesce(cohort_counts.leads_completed, 0) as leads_completed,
        coalesce(pending_counts.leads_old, 0) as leads_old,
        coalesce(pending_counts.leads_in_window, 0) as leads_in_window,
        thresholds.avg_days_to_advance,
        thresholds.expected_days_to_convert,
        stages.benchmark_conversion_rate
    from stages
    cross join as_of
    inner join thresholds
        on stages.stage_key = thresholds.stage_key
    left join cohort_counts
        on stages.stage_key = cohort_counts.stage_key
    left join pending_counts
        on stages.stage_key = pending_counts.stage_key
    -- With no data and no as_of_date var there is no as-of date to report.
    where as_of.as_of_date is not null

),

{{ stage_conversion_ctes() }}

select * from final
