-- One row per export file read (raw_leads* and raw_lead_transitions* under
-- the raw_path var, or the demo seeds), with when it was first loaded.
-- A refresh reads only the files loaded since a model's last build
-- (see macros/incremental_refresh.sql).
{{
    config(
        materialized=lead_refresh_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}

with

files as (

    {{ raw_export_files('raw_leads') }}

    union all

    {{ raw_export_files('raw_lead_transitions') }}

),

final as (

    select
        raw_table,
        file_name,
        {{ run_loaded_at() }} as loaded_at
    from files
    {%- if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as loaded
        where loaded.raw_table = files.raw_table and loaded.file_name = files.file_name
    )
    {%- endif %}

)

select * from final
