-- The HubSpot rows the warehouse deliberately does not read, counted per
-- generic raw table and reason (rpt_data_quality lists them as left_out):
-- deleted deals, deals merged into another, deals of another pipeline
-- than crm_pipeline, the stage changes of the deals left out, and stage
-- changes into a stage of another pipeline than the deal's.
with

deals as (

    select * from {{ ref('base_hubspot__deals') }}

),

stage_changes as (

    select * from {{ ref('base_hubspot__stage_changes') }}

),

final as (

    {{ crm_left_out_counts('deals', 'stage_changes') }}

)

select * from final
