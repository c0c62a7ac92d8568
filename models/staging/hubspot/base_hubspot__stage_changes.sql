-- One row per change of a deal's stage (the dealstage history) with its
-- stage key and why it is left out, if it is. The stage id's key among the
-- stages read (base_hubspot__chosen_stages), of the deal's pipeline. A
-- stage of another pipeline than the deal's (a deal moved between
-- pipelines keeps its old pipeline's changes) is left out as
-- stage_of_another_pipeline; an id that is no stage at all (a deleted
-- stage) is kept as it is, so staging quarantines it as an unknown stage.
-- The changes of deals left out are left out with them; rows of a deal the
-- deal table does not hold are kept (quarantined, counted).
with

history as (

    select * from {{ ref('base_hubspot__stage_history') }}

),

deals as (

    select * from {{ ref('base_hubspot__deals') }}

),

left_out_deals as (

    {{ crm_left_out_deals('deals', 'deal_id') }}

),

-- The pipeline of each deal read (a repeated id: the largest).
deal_pipelines as (

    select
        deal_id,
        max(pipeline_id) as pipeline_id
    from deals
    where left_out_reason is null
    group by deal_id

),

-- Every pipeline's stages, read or not, to tell a stage of another
-- pipeline from an id that is no stage.
all_stages as (

    select
        stage_id,
        max(pipeline_id) as pipeline_id
    from {{ ref('base_hubspot__stages') }}
    group by stage_id

),

read_stages as (

    select * from {{ ref('base_hubspot__chosen_stages') }}

),

final as (

    select
        history.deal_id,
        history.stage_id,
        coalesce(read_stages.stage_key, history.stage_id) as stage_key,
        history.changed_at,
        case
            when left_out_deals.deal_id is not null
                then 'stage_change_of_' || left_out_deals.left_out_reason
            when
                all_stages.pipeline_id is not null
                and deal_pipelines.pipeline_id is not null
                and all_stages.pipeline_id <> deal_pipelines.pipeline_id
                then 'stage_of_another_pipeline'
        end as left_out_reason
    from history
    left join left_out_deals
        on history.deal_id = left_out_deals.deal_id
    left join deal_pipelines
        on history.deal_id = deal_pipelines.deal_id
    left join all_stages
        on history.stage_id = all_stages.stage_id
    left join read_stages
        on history.stage_id = read_stages.stage_id

)

select * from final
