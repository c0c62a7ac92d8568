-- The generic raw_lead_transitions from Pipedrive's deal change log
-- (base_pipedrive__stage_changes): each stage change read, its stage from
-- changed_at on. The changes left out are counted in base_pipedrive__left_out;
-- changes of a deal the deals table does not hold are kept, and staging
-- quarantines them as it does any stage change of an unknown lead.
{%- set export = crm_loader_setting() == 'export' %}
{%- set change_log = 'pipedrive.' ~ ('deal_changes' if export else 'deals_flow_deal_change') %}
with

stage_changes as (

    select * from {{ ref('base_pipedrive__stage_changes') }}

),

final as (

    select
        {{ sql_text(change_log) }} as source_file,
        deal_id as lead_id,
        stage_key,
        changed_at as entered_at
    from stage_changes
    where left_out_reason is null

)

select * from final
