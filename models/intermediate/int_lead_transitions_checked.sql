-- One row per distinct raw stage change with the reason it cannot be used,
-- if any. Rows with a reason are quarantined in rejected_lead_transitions;
-- the others are the events visits are built from. A stage change counts
-- only for a lead that raw_leads holds and accepts, and not before the lead
-- was created.
with

transitions as (

    select * from {{ ref('stg_crm__lead_transitions') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

leads as (

    -- One row per lead_id: whether any of its rows is accepted, and when it
    -- was created. Rejected leads have several rows only when conflicting.
    select
        lead_id,
        max(case when rejection_reason is null then 1 else 0 end) as is_accepted,
        max(case when rejection_reason is null then created_at end) as created_at
    from {{ ref('int_leads_checked') }}
    where lead_id is not null
    group by lead_id

),

final as (

    select
        transitions.lead_id,
        transitions.stage_key,
        transitions.entered_at,
        transitions.unparsed_entered_at,
        transitions.source_row_count,
        stages.event_tiebreak_rank,
        case
            when transitions.lead_id is null then 'missing_lead_id'
            when transitions.entered_at is null then 'unparseable_entered_at'
            when stages.stage_key is null then 'unknown_stage_key'
            when leads.lead_id is null then 'unknown_lead_id'
            when leads.is_accepted = 0 then 'lead_rejected'
            when transitions.entered_at < leads.created_at then 'before_lead_created'
        end as rejection_reason
    from transitions
    left join stages
        on transitions.stage_key = stages.stage_key
    left join leads
        on transitions.lead_id = leads.lead_id

)

select * from final
