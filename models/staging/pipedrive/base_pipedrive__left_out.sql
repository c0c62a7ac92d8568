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

    {{ crm_left_out_counts('deals', 'stage_changes') }}

)

select * from final
