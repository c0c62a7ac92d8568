-- One row per stage of every deal pipeline, with its pipeline, its label
-- made a stage key and its type: won, lost or open. Fivetran has a won
-- flag (closed_won) and no closed one: a stage that is not won with
-- probability 0 is lost (HubSpot gives closed lost stages 0). dlt and
-- Airbyte have HubSpot's isClosed: a closed stage is won with probability
-- 1, else lost. dlt lands the stages as a child table of the pipelines
-- (_dlt_parent_id); Airbyte keeps them in the pipeline's row, a JSON array
-- (deal_pipelines.stages), unnested by json_array_rows.
{%- set loader = crm_loader_setting() %}
{%- set dlt = loader == 'dlt' %}
{%- set airbyte = loader == 'airbyte' %}
{#- closed_flag: isClosed (dlt, Airbyte), Fivetran's closed_won. #}
{%- set is_won = 'closed_flag' if loader == 'fivetran' else 'closed_flag and probability >= 1' %}
{%- set is_lost = 'probability = 0' if loader == 'fivetran' else 'closed_flag' %}
{#- Fivetran's and dlt's stage table, or Airbyte's stages unnested. #}
{%- set stage_table = json_array_rows(
    source('hubspot', 'deal_pipeline'),
    crm_column('stages'),
    {'pipeline_id': crm_column('pipelineId')},
    {
        'stage_id': ['stageId'],
        'label': ['label'],
        'display_order': ['displayOrder'],
        'probability': ['metadata', 'probability'],
        'is_closed': ['metadata', 'isClosed'],
    },
) if airbyte else 'select * from ' ~ source('hubspot', 'deal_pipeline_stage') %}
with

stage_table as (

    {{ stage_table }}

),

stages as (

    select
        {{ crm_text({'dlt': 'pipeline_rows.id'}.get(loader, 'stage_rows.pipeline_id')) }} as pipeline_id,
        {{ crm_text('pipeline_rows.label') }} as pipeline_label,
        {{ crm_text('stage_rows.id' if dlt else 'stage_rows.stage_id') }} as stage_id,
        {{ crm_text('stage_rows.label') }} as stage_name,
        {{ try_cast(crm_text('stage_rows.display_order'), type_double()) }} as display_order,
        {{ try_cast(
            crm_text('stage_rows.metadata__probability' if dlt else 'stage_rows.probability'), type_double()
        ) }} as probability,
        {{ crm_flag({
            'fivetran': 'stage_rows.closed_won', 'dlt': 'stage_rows.metadata__is_closed'
        }.get(loader, 'stage_rows.is_closed')) }} as closed_flag
    from stage_table as stage_rows
    left join {{ source('hubspot', 'deal_pipeline') }} as pipeline_rows
        on {{ {
            'dlt': 'stage_rows._dlt_parent_id = pipeline_rows._dlt_id',
            'airbyte': 'stage_rows.pipeline_id = pipeline_rows.' ~ crm_column('pipelineId'),
        }.get(loader, 'stage_rows.pipeline_id = pipeline_rows.pipeline_id') }}

),

typed as (

    select
        *,
        case
            when {{ is_won }} then 'won'
            when {{ is_lost }} then 'lost'
            else 'open'
        end as stage_type
    from stages

),

final as (

    select
        pipeline_id,
        pipeline_label,
        stage_id,
        {{ stage_key_of('stage_name') }} as stage_key,
        stage_name,
        display_order,
        stage_type
    from typed

)

select * from final
