-- The generic raw_lead_transitions from the deals' dealstage history: each
-- change's stage id as the stage key of the pipeline read. An id that is
-- not one of its stages (a stage of another pipeline, a deleted stage) is
-- kept as it is, so staging quarantines it as an unknown stage. The
-- history of deals left out is counted in base_hubspot__left_out; rows of
-- a deal the deal table does not hold are kept (quarantined, counted).
with

history as (

    select * from {{ ref('base_hubspot__stage_history') }}

),

left_out_deals as (

    {{ crm_left_out_deals(ref('base_hubspot__deals'), 'deal_id') }}

),

stages as (

    select * from {{ ref('base_hubspot__chosen_stages') }}

),

final as (

    select
        'hubspot.deal_property_history' as source_file,
        history.deal_id as lead_id,
        coalesce(stages.stage_key, history.stage_id) as stage_key,
        history.changed_at as entered_at
    from history
    left join left_out_deals
        on history.deal_id = left_out_deals.deal_id
    left join stages
        on history.stage_id = stages.stage_id
    where left_out_deals.deal_id is null

)

select * from final
