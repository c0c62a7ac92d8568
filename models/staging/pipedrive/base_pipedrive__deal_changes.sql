-- One row per row of Pipedrive's deal change log with the loader's names
-- made the adapter's own: a field of a deal changed to new_value at
-- changed_at. Every field is here; the models that read it pick theirs.
with

source as (

    select * from {{ source('pipedrive', 'deal_changes') }}

),

final as (

    select
        {{ crm_text(crm_column({'dlt': 'item_id', 'export': 'deal_id'})) }} as deal_id,
        {{ crm_text(crm_column({'dlt': 'field_key', 'export': 'changed_field_key'})) }} as field_key,
        {{ crm_text('new_value') }} as new_value,
        {{ crm_text(crm_column({'dlt': 'log_time', 'export': 'change_time'})) }} as changed_at
    from source

)

select * from final
