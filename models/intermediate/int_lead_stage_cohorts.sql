-- One row per lead x open stage it entered (docs/metrics.md section 4): the
-- lead's first visit of the stage, whether it advanced past that visit,
-- whether it completed the stage and, while it has not, since when it is
-- pending there. The conversion and the ageing are counted at this grain.
-- A view over the cohort entries of the visits: stored as a table of its
-- own it cost more at 10 M stage changes than its readers saved
-- (benchmarks/RESULTS.md).
{{ config(materialized='view') }}

with

visits as (

    select * from {{ ref('int_lead_stage_visits_collapsed') }}

),

final as (

    select
        lead_id,
        stage_key,
        entered_at as first_entered_at,
        is_cohort_advanced as is_advanced,
        is_cohort_completed as is_completed,
        pending_since
    from visits
    where is_cohort_entry

)

select * from final
