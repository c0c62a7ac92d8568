-- One row per Salesforce opportunity with the loader's names made the
-- adapter's own, its pipeline (its record type; none: default), and
-- whether the warehouse reads it: not when it is deleted, nor (with the
-- var crm_pipeline) of another record type.
with

source as (

    select * from {{ source('salesforce', 'opportunity') }}

),

renamed as (

    select
        {{ crm_text(crm_column('id')) }} as opportunity_id,
        {{ crm_text(crm_column({'fivetran': 'created_date', 'airbyte': 'createddate'})) }} as created_at,
        {{ crm_text(crm_column({'fivetran': 'lead_source', 'airbyte': 'leadsource'})) }} as lead_source,
        {{ crm_text(crm_column('type')) }} as opportunity_type,
        {{ crm_text(crm_column({'fivetran': 'owner_id', 'airbyte': 'ownerid'})) }} as owner_id,
        {{ crm_text(crm_column('amount')) }} as amount,
        {{ crm_text(crm_optional_column('salesforce', 'opportunity', {
            'fivetran': 'currency_iso_code', 'airbyte': 'currencyisocode'
        })) }} as currency,
        {{ crm_text(crm_column({'fivetran': 'record_type_id', 'airbyte': 'recordtypeid'})) }} as record_type_id,
        {{ crm_flag(crm_column({'fivetran': 'is_deleted', 'airbyte': 'isdeleted'})) }} as is_deleted
    from source

),

with_pipeline as (

    select
        *,
        coalesce(nullif(trim(record_type_id), ''), 'default') as pipeline_id
    from renamed

),

final as (

    select
        *,
        case
            when is_deleted then 'deleted_deal'
            {%- if crm_pipeline_setting() is not none %}
            when pipeline_id <> {{ sql_text(crm_pipeline_setting()) }} then 'other_pipeline'
            {%- endif %}
        end as left_out_reason
    from with_pipeline

)

select * from final
