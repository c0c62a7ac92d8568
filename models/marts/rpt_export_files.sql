-- Every file of the raw_path folder (without it the two raw tables, or
-- their batches with crm_batch_column) and
-- what happened to it: read (with its rows, which rpt_data_quality then
-- accounts for), ignored (not an export, or an export of the other
-- raw_format), configuration (read through config_path) or waiting
-- (written a moment ago or while it was inspected: the next build reads
-- it), with the reason. A file that cannot be read never gets here: it stops the build
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
        case
            when folder.status = 'export' and files.file_name is not null then 'read'
            -- Changed while it was inspected: the next build reads it.
            when folder.status = 'export' then 'waiting'
            else folder.status
        end as status,
        case
            when folder.status = 'export' and files.file_name is null
                then 'changed while it was inspected: left for the next build, in case it is still being written'
            else folder.reason
        end as reason,
        files.row_count,
        folder.file_size_bytes,
        folder.file_modified_at,
        files.loaded_at
    from folder
    left join files
        on folder.raw_table = files.raw_table and folder.file_name = files.file_name

)

select * from final
