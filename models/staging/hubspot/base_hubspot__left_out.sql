-- The HubSpot rows the warehouse deliberately does not read, counted per
-- generic raw table and reason (rpt_data_quality lists them as left_out):
-- deleted deals, deals merged into another, deals of another pipeline
-- than crm_pipeline, and the stage changes of the deals left out.
with

deals as (

    select * from {{ ref('base_hubspot__deals') }}

),

left_out_deals as (

    {{ crm_left_out_deals('deals', 'deal_id') }}

),

left_out_history as (

    select 'stage_change_of_' || left_out_deals.left_out_reason as reason
    from {{ ref('base_hubspot__stage_history') }} as history
    inner join left_out_deals
        on history.deal_id = left_out_deals.deal_id

),

final as (

    {{ crm_left_out_counts('deals', 'left_out_history', change_reason='reason') }}

)

select * from final
