-- sqlfluff:indentation:template_blocks_indent:False
-- One row per Pipedrive stage with the loader's names made the adapter's
-- own, its stage key (the name's slug), its pipeline (no pipelines table
-- is read: a pipeline's name is its id), whether its pipeline is read
-- (crm_pipeline's, or every pipeline) and the prefix of its pipeline's
-- stage keys (crm_pipeline_key_prefixes: empty when one pipeline is read).
-- An export's stages table has one pipeline (default) and no order: its
-- stages are ordered by stage_id.
{%- set chosen = crm_pipeline_setting() if crm_loader_setting() != 'export' else none %}
with

source as (

    select * from {{ source('pipedrive', 'stages') }}

),

renamed as (

    select
        {{ crm_text(crm_column({'dlt': 'id', 'export': 'stage_id'})) }} as stage_id,
        {{ crm_text(crm_column({'dlt': 'name', 'export': 'stage_name'})) }} as stage_name,
        {{ stage_key_of(crm_text(crm_column({'dlt': 'name', 'export': 'stage_name'}))) }} as stage_key,
        {%- if crm_loader_setting() == 'export' %}
        {{ try_cast(crm_text('stage_id'), type_double()) }} as order_nr,
        'default' as pipeline_id
        {%- else %}
        {{ try_cast(crm_text('order_nr'), type_double()) }} as order_nr,
        coalesce(nullif(trim({{ crm_text('pipeline_id') }}), ''), 'default') as pipeline_id
        {%- endif %}
    from source

),

pipelines as (

    select distinct
        pipeline_id,
        pipeline_id as pipeline_name
    from renamed
    {%- if chosen is not none %}
    where pipeline_id = {{ sql_text(chosen) }}
    {%- endif %}

),

prefixes as (

    {{ crm_pipeline_key_prefixes('pipelines') }}

),

final as (

    select
        renamed.stage_id,
        renamed.stage_name,
        renamed.stage_key,
        renamed.order_nr,
        renamed.pipeline_id,
        renamed.pipeline_id as pipeline_name,
        prefixes.pipeline_id is not null as is_read,
        coalesce(prefixes.key_prefix, '') as key_prefix
    from renamed
    left join prefixes
        on renamed.pipeline_id = prefixes.pipeline_id

)

select * from final
