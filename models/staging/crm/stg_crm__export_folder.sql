{%- if crm_tables_setting() == 'seeds' %}
-- depends_on: {{ ref('raw_leads') }} {{ ref('raw_lead_transitions') }}
{%- endif %}
-- One row per entry of the raw_path folder (not its subfolders), as it is
-- now, with what the warehouse makes of it by its name: an export to read,
-- refused (named as an export, in a format that is not read), ignored, or
-- configuration. Without raw_path: the two raw tables (demo seeds or a
-- loader's), counted, or with crm_batch_column their batches, one row
-- each. The files are inspected and read through stg_crm__export_files.
{{ config(materialized='table') }}

with

entries as (

    {{ export_folder_entries() }}

),

final as (

    select
        file_name,
        file_path,
        raw_table,
        file_format,
        status,
        reason,
        file_size_bytes,
        file_modified_at,
        row_count
    from entries

)

select * from final
