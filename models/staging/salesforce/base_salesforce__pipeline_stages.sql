-- The generic pipeline_stages (docs/metrics.md section 1) from the org's
-- OpportunityStage (base_salesforce__stages), for each pipeline read
-- (base_salesforce__pipelines: the record types; Salesforce's stages are
-- one org-wide list, so each pipeline has every stage): open and won stages are numbered 1..n per
-- pipeline by their SortOrder (ties by API name), lost ones have no order.
-- With several pipelines read each key is prefixed with its pipeline's key
-- (enterprise__closed_won). Inactive stages are kept: the history still
-- holds them. No default expected days (the history gives them). A
-- config_path's pipeline_stages.csv replaces it.
with

stages as (

    select * from {{ ref('base_salesforce__stages') }}

),

pipelines as (

    select * from {{ ref('base_salesforce__pipelines') }}

),

numbered as (

    select
        pipelines.pipeline_id,
        pipelines.pipeline_name,
        pipelines.key_prefix || stages.stage_key as stage_key,
        stages.stage_name,
        stages.stage_type,
        case
            when stages.stage_type <> 'lost'
                then row_number() over (
                    partition by pipelines.pipeline_id, stages.stage_type = 'lost'
                    order by stages.sort_order, stages.stage_key
                )
        end as stage_order
    from stages
    cross join pipelines

),

final as (

    select
        {{ crm_stage_list_columns() }}
    from numbered

)

select * from final
