-- One row per lead x open stage it entered (docs/metrics.md section 4): the
-- visit that entered it into the stage's cohort (its first visit of the
-- stage) and the later visit of an open or won stage further on that
-- advanced it past the stage, if any, with when each began. Between the two,
-- the lead's visits of the stage are pending in its cohort: the history
-- (fct_stage_conversion_daily) and the movement (fct_pipeline_movement)
-- read each day's pending and old leads from them.
with

visits as (

    select
        lead_id,
        visit_number,
        stage_key,
        stage_type,
        stage_order,
        entered_at,
        is_cohort_entry
    from {{ ref('int_lead_stage_visits_collapsed') }}

),

final as (

    select
        entry.lead_id,
        entry.stage_key,
        entry.visit_number as entry_visit_number,
        entry.entered_at,
        min(later.visit_number) as advancing_visit_number,
        min(later.entered_at) as advanced_at
    from visits as entry
    left join visits as later
        on
            entry.lead_id = later.lead_id
            and entry.visit_number < later.visit_number
            and later.stage_type in ('open', 'won')
            and entry.stage_order < later.stage_order
    where entry.is_cohort_entry
    group by
        entry.lead_id,
        entry.stage_key,
        entry.visit_number,
        entry.entered_at

)

select * from final
