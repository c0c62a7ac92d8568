-- One row per OpportunityHistory row with the loader's names made the
-- adapter's own: the stage an opportunity was in from that moment on.
with

source as (

    select * from {{ source('salesforce', 'opportunity_history') }}

),

final as (

    select
        {{ crm_text(crm_column({'fivetran': 'opportunity_id', 'airbyte': 'opportunityid'})) }} as opportunity_id,
        {{ crm_text(crm_column({'fivetran': 'stage_name', 'airbyte': 'stagename'})) }} as stage_name,
        {{ crm_text(crm_column({'fivetran': 'created_date', 'airbyte': 'createddate'})) }} as changed_at,
        {{ crm_flag(crm_column({'fivetran': 'is_deleted', 'airbyte': 'isdeleted'})) }} as is_deleted
    from source

)

select * from final
