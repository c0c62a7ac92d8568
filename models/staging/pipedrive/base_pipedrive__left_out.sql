-- The Pipedrive rows the warehouse deliberately does not read, counted per
-- generic raw table and reason (rpt_data_quality lists them as left_out):
-- deleted deals and deals of another pipeline than crm_pipeline, and their
-- stage changes; with an export, the post-sale stage changes after a deal
-- was won and the lost reasons that are empty or come after it was won.
with

deals as (

    select * from {{ ref('base_pipedrive__deals') }}

),

stage_changes as (

    select * from {{ ref('base_pipedrive__stage_changes') }}

),

final as (

    select
        'raw_leads' as table_name,
        left_out_reason as reason,
        count(*) as row_count
    from deals
    where left_out_reason is not null
    group by left_out_reason

    union all

    select
        'raw_lead_transitions' as table_name,
        left_out_reason as reason,
        count(*) as row_count
    from stage_changes
    where left_out_reason is not null
    group by left_out_reason

)

select * from final
