-- One row per old lead as of as_of_date: leads still in a stage past its
-- expected days to convert, for the reps who own them. Its rows per stage
-- add up to fct_stage_conversion.leads_old.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

old_cohorts as (

    select * from {{ ref('int_stage_cohorts_classified') }}
    where is_old

),

leads as (

    select * from {{ ref('int_leads_checked') }}
    where rejection_reason is null

),

final as (

    select
        as_of.as_of_date,
        old_cohorts.lead_id,
        old_cohorts.stage_key,
        old_cohorts.current_entered_at as entered_at,
        old_cohorts.current_days_in_stage as days_in_stage,
        old_cohorts.expected_days_to_convert,
        old_cohorts.current_days_in_stage - old_cohorts.expected_days_to_convert as days_overdue,
        leads.owner_id,
        leads.lead_source,
        leads.segment
    from old_cohorts
    cross join as_of
    left join leads
        on old_cohorts.lead_id = leads.lead_id

)

select * from final
