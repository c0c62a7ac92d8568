-- Every raw row ends in exactly one place: accepted, a collapsed duplicate,
-- or the quarantine. The raw rows are counted per export file when the
-- file is inspected (stg_crm__export_files, by DuckDB's reader on its own,
-- or the seed's rows). A row returned is a raw table whose rows do not add
-- up. A CRM adapter's left_out rows are not among the raw rows (the
-- adapter writes the raw pair without them). Reported in Dagster as an asset check on rpt_data_quality.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_data_quality'}}}) }}

with

raw_counts as (

    select
        raw_table as table_name,
        sum(row_count) as raw_rows
    from {{ ref('stg_crm__export_files') }}
    group by raw_table

),

reported as (

    select
        table_name,
        sum(row_count) as reported_rows
    from {{ ref('rpt_data_quality') }}
    where outcome != 'left_out'
    group by table_name

)

select
    coalesce(raw_counts.table_name, reported.table_name) as table_name,
    coalesce(raw_counts.raw_rows, 0) as raw_rows,
    coalesce(reported.reported_rows, 0) as reported_rows
from raw_counts
full outer join reported
    on raw_counts.table_name = reported.table_name
where coalesce(raw_counts.raw_rows, 0) != coalesce(reported.reported_rows, 0)
