-- One row per visit of an open stage (docs/metrics.md section 2), with the
-- stages of the lead's visits before and after it and whether the lead is
-- pending in the stage's cohort during it (section 4): what
-- fct_pipeline_movement sorts each visit by. A view: it is read once.
{{ config(materialized='view') }}

with

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

visits as (

    select
        lead_id,
        visit_number,
        stage_key,
        entered_at,
        exited_at,
        next_stage_key,
        lag(stage_key) over (partition by lead_id order by visit_number) as previous_stage_key
    from {{ ref('int_lead_stage_visits_collapsed') }}

),

final as (

    select
        visits.lead_id,
        visits.visit_number,
        visits.stage_key,
        this_stage.stage_order,
        this_stage.pipeline_id,
        this_stage.pipeline_name,
        visits.entered_at,
        visits.exited_at,
        visits.next_stage_key,
        next_stage.stage_type as next_stage_type,
        next_stage.stage_order as next_stage_order,
        visits.previous_stage_key,
        previous_stage.stage_type as previous_stage_type,
        previous_stage.stage_order as previous_stage_order,
        spans.lead_id is not null as is_pending
    from visits
    inner join stages as this_stage
        on visits.stage_key = this_stage.stage_key
    left join stages as next_stage
        on visits.next_stage_key = next_stage.stage_key
    left join stages as previous_stage
        on visits.previous_stage_key = previous_stage.stage_key
    left join {{ ref('int_stage_cohort_spans') }} as spans
        on
            visits.lead_id = spans.lead_id
            and visits.stage_key = spans.stage_key
            and visits.visit_number >= spans.entry_visit_number
            and (spans.advancing_visit_number is null or visits.visit_number < spans.advancing_visit_number)
    where this_stage.stage_type = 'open'

)

select * from final
