-- One row per change of a deal's stage (the property history's dealstage
-- rows) with the loader's names made the adapter's own: the stage id a
-- deal was in from changed_at on.
with

source as (

    select * from {{ source('hubspot', 'deal_property_history') }}

),

final as (

    select
        {{ crm_text(crm_column({'fivetran': 'deal_id', 'dlt': 'object_id', 'airbyte': 'dealId'})) }} as deal_id,
        {{ crm_text(crm_column('value')) }} as stage_id,
        {{ crm_text(crm_column('timestamp')) }} as changed_at
    from source
    where {{ crm_column({'fivetran': 'name', 'dlt': 'property_name', 'airbyte': 'property'}) }} = 'dealstage'

)

select * from final
