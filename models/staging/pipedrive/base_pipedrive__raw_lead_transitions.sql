-- The generic raw_lead_transitions from Pipedrive's deal change log
-- (base_pipedrive__stage_changes): each stage change read, its stage from
-- changed_at on. The changes left out are counted in base_pipedrive__left_out;
-- changes of a deal the deals table does not hold are kept, and staging
-- quarantines them as it does any stage change of an unknown lead.
with

stage_changes as (

    select * from {{ ref('base_pipedrive__stage_changes') }}

),

final as (

    select
        {{ sql_text('pipedrive.deal_changes' if crm_loader_setting() == 'export' else 'pipedrive.deals_flow_deal_change') }}
            as source_file,
        deal_id as lead_id,
        stage_key,
        changed_at as entered_at
    from stage_changes
    where left_out_reason is null

)

select * from final
