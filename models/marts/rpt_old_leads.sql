-- One row per old lead as of as_of_date: leads still in a stage past its
-- expected days to convert, for the reps who own them. Its rows per stage
-- add up to fct_stage_conversion.leads_old. A view: it changes with every
-- as-of date, and computing it is cheaper than copying it. A lead overdue
-- by more than likely_dead_multiple times its expected days is flagged
-- is_likely_dead (docs/metrics.md section 4): close it or revive it.
{{ config(materialized='view') }}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

old_leads as (

    select
        *,
        days_in_stage - expected_days_to_convert as days_overdue
    from {{ ref('int_pending_leads_aged') }}
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
        as_of.as_of_date,
        old_leads.lead_id,
        stages.pipeline_id,
        stages.pipeline_name,
        old_leads.stage_key,
        old_leads.entered_at,
        old_leads.days_in_stage,
        old_leads.expected_days_to_convert,
        old_leads.days_overdue,
        {{ is_likely_dead('old_leads.days_overdue', 'old_leads.expected_days_to_convert') }} as is_likely_dead,
        leads.owner_id,
        leads.lead_source,
        leads.segment,
        cast(amounts.deal_amount as {{ type_double() }}) as deal_amount,
        amounts.deal_currency,
        cast(amounts.deal_amount_reporting as {{ type_double() }}) as deal_amount_reporting
    from old_leads
    cross join as_of
    inner join stages
        on old_leads.stage_key = stages.stage_key
    left join leads
        on old_leads.lead_id = leads.lead_id
    left join {{ ref('int_lead_amounts') }} as amounts
        on old_leads.lead_id = amounts.lead_id

)

select * from final
