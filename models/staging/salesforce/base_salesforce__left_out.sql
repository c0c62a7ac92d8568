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

left_out_history as (

    select
        case
            when history.is_deleted then 'deleted_stage_change'
            else 'stage_change_of_' || opportunities.left_out_reason
        end as reason
    from history
    left join opportunities
        on history.opportunity_id = opportunities.opportunity_id
    where history.is_deleted or opportunities.left_out_reason is not null

),

final as (

    select
        'raw_leads' as table_name,
        left_out_reason as reason,
        count(*) as row_count
    from opportunities
    where left_out_reason is not null
    group by left_out_reason

    union all

    select
        'raw_lead_transitions' as table_name,
        reason,
        count(*) as row_count
    from left_out_history
    group by reason

)

select * from final
