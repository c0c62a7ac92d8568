-- One row per entry of the raw_path folder (not its subfolders), as the
-- loader last listed it (sales_pipeline.load), with what the warehouse
-- makes of it by its name: an export to read, refused (named as an export,
-- in a format that is not read), ignored, configuration or waiting.
-- Without raw_path: the two raw tables (demo seeds or a loader's),
-- counted, or with crm_batch_column their batches, one row each.
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
