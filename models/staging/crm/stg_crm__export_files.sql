-- depends_on: {{ ref('stg_crm__export_folder') }}
-- One row per export file read: raw_leads* and raw_lead_transitions*
-- files under the raw_path var (without it the two raw tables: the demo
-- seeds or a loader's, see models/staging/crm/_crm__sources.yml), with how the
-- staging views read it, its rows, and when it was first loaded. Each file
-- is inspected once, when it first appears; one that cannot be read, or a
-- loaded file that changed or disappeared, stops the build here with a
-- message per problem (macros/export_file_checks.sql). A refresh appends
-- the new files, and the lead-level models read only the files loaded
-- since their last build (macros/incremental_refresh.sql). Its post-hook
-- makes the crm sources views over the files it lists (write_export_views
-- in macros/raw_input.sql).
{{
    config(
        materialized=lead_refresh_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook='{{ write_export_views() }}',
    )
}}
{%- set new_files = inspect_new_export_files() %}

with

files as (

    {{ export_file_rows(new_files) }}

),

final as (

    select
        raw_table,
        file_name,
        file_path,
        file_format,
        read_options,
        column_names,
        cast(row_count as {{ dbt.type_bigint() }}) as row_count,
        cast(file_size_bytes as {{ dbt.type_bigint() }}) as file_size_bytes,
        file_modified_at,
        {{ run_loaded_at() }} as loaded_at
    from files

)

select * from final
