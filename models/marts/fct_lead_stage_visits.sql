-- One row per lead x visit of a stage, with the lead's owner, source and
-- segment, and for a lead's current visit its days in stage and whether it
-- is old. A view: the visits are refreshed incrementally and only current
-- visits age with the as-of date, so nothing is copied.
{{ config(materialized='view') }}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

visits as (

    select * from {{ ref('int_lead_stage_visits_collapsed') }}

),

old_leads as (

    select lead_id from {{ ref('int_pending_leads_aged') }}
    where is_old

),

leads as (

    select * from {{ ref('int_lead_outcomes') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

final as (

    select
        visits.lead_id,
        stages.pipeline_id,
        stages.pipeline_name,
        visits.stage_key,
        visits.visit_number,
        visits.entered_at,
        visits.exited_at,
        visits.next_stage_key,
        visits.exit_type,
        visits.dwell_days,
        case
            when visits.is_current_visit then {{ days_in_stage('visits.entered_at', 'as_of.as_of_at') }}
        end as days_in_stage,
        visits.is_current_visit and old_leads.lead_id is not null as is_old,
        leads.owner_id,
        leads.lead_source,
        leads.segment,
        cast(amounts.deal_amount as {{ type_double() }}) as deal_amount,
        amounts.deal_currency,
        cast(amounts.deal_amount_reporting as {{ type_double() }}) as deal_amount_reporting
    from visits
    cross join as_of
    left join old_leads
        on visits.lead_id = old_leads.lead_id
    inner join stages
        on visits.stage_key = stages.stage_key
    left join leads
        on visits.lead_id = leads.lead_id
    left join {{ ref('int_lead_amounts') }} as amounts
        on visits.lead_id = amounts.lead_id

)

select * from final
