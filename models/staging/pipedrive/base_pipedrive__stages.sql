-- sqlfluff:indentation:template_blocks_indent:False
-- One row per Pipedrive stage with the loader's names made the adapter's
-- own, and its stage key (the name's slug). An export's stages table has
-- one pipeline and no order: its stages are ordered by stage_id.
with

source as (

    select * from {{ source('pipedrive', 'stages') }}

),

final as (

    select
        {{ crm_text(crm_column({'dlt': 'id', 'export': 'stage_id'})) }} as stage_id,
        {{ crm_text(crm_column({'dlt': 'name', 'export': 'stage_name'})) }} as stage_name,
        {{ stage_key_of(crm_text(crm_column({'dlt': 'name', 'export': 'stage_name'}))) }} as stage_key,
        {%- if crm_loader_setting() == 'export' %}
        {{ try_cast(crm_text('stage_id'), type_double()) }} as order_nr,
        cast(null as {{ dbt.type_string() }}) as pipeline_id
        {%- else %}
        {{ try_cast(crm_text('order_nr'), type_double()) }} as order_nr,
        {{ crm_text('pipeline_id') }} as pipeline_id
        {%- endif %}
    from source

)

select * from final
