-- One row per deal merged into another: its stale row stays in the
-- loader's deal table (Fivetran: fivetran/dbt_hubspot issue #134) and
-- must not count as a lead of its own. Fivetran lists merges in
-- merged_deal; dlt and Airbyte only have the surviving deal's
-- hs_merged_object_ids (Airbyte: properties_hs_merged_object_ids), the
-- merged ids separated by ';', matched whole (';id;' in ';list;').
{%- if crm_loader_setting() in ['dlt', 'airbyte'] %}
    {%- set merges_sql %}
    select
        merged.deal_id as merged_deal_id,
        surviving.deal_id
    from (
        select
            {{ crm_text('id') }} as deal_id,
            replace({{ crm_text(crm_column({
                'dlt': 'hs_merged_object_ids', 'airbyte': 'properties_hs_merged_object_ids'
            })) }}, ' ', '') as merged_ids
        from {{ source('hubspot', 'deal') }}
    ) as surviving
    inner join (
        select {{ crm_text('id') }} as deal_id
        from {{ source('hubspot', 'deal') }}
    ) as merged
        on {{ text_contains("';' || surviving.merged_ids || ';'", "';' || merged.deal_id || ';'") }}
    {%- endset %}
{%- else %}
    {%- set merges_sql %}
    select
        {{ crm_text('merged_deal_id') }} as merged_deal_id,
        {{ crm_text('deal_id') }} as deal_id
    from {{ source('hubspot', 'merged_deal') }}
    {%- endset %}
{%- endif %}
with

merge_rows as (

    {{ merges_sql }}

),

final as (

    select distinct
        merged_deal_id,
        deal_id
    from merge_rows
    where merged_deal_id is not null

)

select * from final
