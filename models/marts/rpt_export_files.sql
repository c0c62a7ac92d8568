-- Every file of the raw_path folder (without it the two raw tables, or
-- their batches with crm_batch_column) and
-- what happened to it: read (with its rows, which rpt_data_quality then
-- accounts for), ignored (not an export, or an export of the other
-- raw_format) or configuration (read through config_path), with the
-- reason. A file that cannot be read never gets here: it stops the build
-- (macros/export_file_checks.sql).
with

folder as (

    select * from {{ ref('stg_crm__export_folder') }}

),

files as (

    select * from {{ ref('stg_crm__export_files') }}

),

final as (

    select
        folder.file_name,
        folder.raw_table,
        folder.file_format,
        case when folder.status = 'export' then 'read' else folder.status end as status,
        folder.reason,
        files.row_count,
        folder.file_size_bytes,
        folder.file_modified_at,
        files.loaded_at
    from folder
    left join files
        on folder.raw_table = files.raw_table and folder.file_name = files.file_name

)

select * from final
