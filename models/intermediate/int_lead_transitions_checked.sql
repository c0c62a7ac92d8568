-- One row per distinct raw stage change with the reason it cannot be used,
-- if any. Rows with a reason are quarantined in rejected_lead_transitions;
-- the others are the events visits are built from.
with

transitions as (

    select * from {{ ref('stg_crm__lead_transitions') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

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
        end as rejection_reason
    from transitions
    left join stages
        on transitions.stage_key = stages.stage_key

)

select * from final
