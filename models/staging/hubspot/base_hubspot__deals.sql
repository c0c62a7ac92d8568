-- One row per row of the loader's deal table with its names made the
-- adapter's own, and why the warehouse does not read it, if it does not:
-- deleted, merged into another deal (a stale copy), or (with the var
-- crm_pipeline) of another pipeline. A repeated or empty id is passed on:
-- staging collapses or quarantines it as it does a generic lead row.
with

source as (

    select * from {{ source('hubspot', 'deal') }}

),

renamed as (

    select
        {{ crm_text(crm_column({'fivetran': 'deal_id', 'dlt': 'id', 'airbyte': 'id'})) }} as deal_id,
        {{ crm_text(crm_column({
            'fivetran': 'property_createdate', 'dlt': 'createdate', 'airbyte': 'properties_createdate'
        })) }} as created_at,
        {{ crm_text(crm_column({
            'fivetran': 'property_hs_analytics_source',
            'dlt': 'hs_analytics_source',
            'airbyte': 'properties_hs_analytics_source',
        })) }} as lead_source,
        {{ crm_text(crm_column({
            'fivetran': 'property_dealtype', 'dlt': 'dealtype', 'airbyte': 'properties_dealtype'
        })) }} as deal_type,
        {{ crm_text(crm_column({
            'fivetran': 'owner_id', 'dlt': 'hubspot_owner_id', 'airbyte': 'properties_hubspot_owner_id'
        })) }} as owner_id,
        {{ crm_text(crm_column({
            'fivetran': 'property_amount', 'dlt': 'amount', 'airbyte': 'properties_amount'
        })) }} as amount,
        {{ crm_text(crm_optional_column('hubspot', 'deal', {
            'fivetran': 'property_deal_currency_code',
            'dlt': 'deal_currency_code',
            'airbyte': 'properties_deal_currency_code',
        })) }} as currency,
        {{ crm_text(crm_column({
            'fivetran': 'deal_pipeline_id', 'dlt': 'pipeline', 'airbyte': 'properties_pipeline'
        })) }} as pipeline_id,
        {{ crm_flag(crm_column({'fivetran': 'is_deleted', 'dlt': 'is_deleted', 'airbyte': 'archived'})) }} as is_deleted
    from source

),

merged as (

    select distinct merged_deal_id
    from {{ ref('base_hubspot__merged_deals') }}

),

final as (

    select
        renamed.*,
        case
            when renamed.is_deleted then 'deleted_deal'
            when merged.merged_deal_id is not null then 'merged_deal'
            {%- if crm_pipeline_setting() is not none %}
            when coalesce(renamed.pipeline_id, '') <> {{ sql_text(crm_pipeline_setting()) }} then 'other_pipeline'
            {%- endif %}
        end as left_out_reason
    from renamed
    left join merged
        on renamed.deal_id = merged.merged_deal_id

)

select * from final
