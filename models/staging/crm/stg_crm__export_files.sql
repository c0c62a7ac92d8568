-- One row per export file read: the files of the raw_path folder the
-- loader landed (sales_pipeline.load; its ledger), or without raw_path the
-- two raw tables (the demo seeds or a loader's, see
-- models/staging/crm/_crm__sources.yml) or their batches; with how it was
-- read, its rows, and when a build first read it (loaded_at). A refresh
-- appends the new files, and the lead-level models read only the rows of
-- the files recorded since their last build (macros/incremental_refresh.sql).
{{
    config(
        materialized=lead_refresh_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}

with

files as (

    {{ export_file_rows() }}

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
