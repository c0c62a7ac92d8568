-- The generic raw_lead_transitions from the deals' dealstage history: the
-- stage changes of base_hubspot__stage_changes that are read, each with
-- its stage key (an id that is no stage kept as it is, so staging
-- quarantines it as an unknown stage). The changes left out are counted in
-- base_hubspot__left_out.
with

stage_changes as (

    select * from {{ ref('base_hubspot__stage_changes') }}

),

final as (

    select
        'hubspot.deal_property_history' as source_file,
        deal_id as lead_id,
        stage_key,
        changed_at as entered_at
    from stage_changes
    where left_out_reason is null

)

select * from final
