-- The generic pipeline_stages (docs/metrics.md section 1) from the org's
-- OpportunityStage, for each pipeline read (base_salesforce__pipelines:
-- the record types; Salesforce's stages are one org-wide list, so each
-- pipeline has every stage): a won stage is won, a closed one that is not
-- won is lost, the others open; open and won stages are numbered 1..n per
-- pipeline by their SortOrder (ties by API name), lost ones have no order.
-- With several pipelines read each key is prefixed with its pipeline's key
-- (enterprise__closed_won). Inactive stages are kept: the history still
-- holds them. No default expected days (the history gives them). A
-- config_path's pipeline_stages.csv replaces it.
with

source as (

    select * from {{ source('salesforce', 'opportunity_stage') }}

),

pipelines as (

    select * from {{ ref('base_salesforce__pipelines') }}

),

stages as (

    select
        {{ stage_key_of(crm_text(crm_column({'fivetran': 'api_name', 'airbyte': 'apiname'}))) }} as stage_key,
        {{ crm_text(crm_column({'fivetran': 'master_label', 'airbyte': 'masterlabel'})) }} as stage_name,
        {{ try_cast(
            crm_text(crm_column({'fivetran': 'sort_order', 'airbyte': 'sortorder'})), type_double()
        ) }} as sort_order,
        case
            when {{ crm_flag(crm_column({'fivetran': 'is_won', 'airbyte': 'iswon'})) }} then 'won'
            when {{ crm_flag(crm_column({'fivetran': 'is_closed', 'airbyte': 'isclosed'})) }} then 'lost'
            else 'open'
        end as stage_type
    from source

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
