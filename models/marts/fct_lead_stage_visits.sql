-- One row per lead x visit of a stage, with the lead's owner, source and
-- segment, and whether the visit is a lead's current, old one.
with

visits as (

    select * from {{ ref('int_lead_stage_visits_collapsed') }}

),

old_cohorts as (

    select
        lead_id,
        current_visit_number
    from {{ ref('int_stage_cohorts_classified') }}
    where is_old

),

leads as (

    select * from {{ ref('int_leads_checked') }}
    where rejection_reason is null

),

final as (

    select
        visits.lead_id,
        visits.stage_key,
        cast(visits.visit_number as {{ dbt.type_int() }}) as visit_number,
        visits.entered_at,
        visits.exited_at,
        visits.next_stage_key,
        visits.exit_type,
        visits.dwell_days,
        visits.days_in_stage,
        old_cohorts.lead_id is not null as is_old,
        leads.owner_id,
        leads.lead_source,
        leads.segment
    from visits
    left join old_cohorts
        on
            visits.lead_id = old_cohorts.lead_id
            and visits.visit_number = old_cohorts.current_visit_number
    left join leads
        on visits.lead_id = leads.lead_id

)

select * from final
