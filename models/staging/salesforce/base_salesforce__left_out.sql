-- The Salesforce rows the warehouse deliberately does not read, counted
-- per generic raw table and reason (rpt_data_quality lists them as
-- left_out): deleted opportunities and history rows, opportunities of
-- another record type than crm_pipeline, and the history of the
-- opportunities left out.
with

opportunities as (

    select * from {{ ref('base_salesforce__opportunities') }}

),

history as (

    select * from {{ ref('base_salesforce__stage_history') }}

),

left_out_opportunities as (

    {{ crm_left_out_deals('opportunities', 'opportunity_id') }}

),

left_out_history as (

    select
        case
            when history.is_deleted then 'deleted_stage_change'
            else 'stage_change_of_' || left_out_opportunities.left_out_reason
        end as reason
    from history
    left join left_out_opportunities
        on history.opportunity_id = left_out_opportunities.deal_id
    where history.is_deleted or left_out_opportunities.deal_id is not null

),

final as (

    {{ crm_left_out_counts('opportunities', 'left_out_history', change_reason='reason') }}

)

select * from final
