-- Every raw row ends in exactly one place: accepted, a collapsed duplicate,
-- or the quarantine. A row returned is a raw table whose rows do not add up.
-- Reported in Dagster as an asset check on rpt_data_quality.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_data_quality'}}}) }}

with

raw_counts as (

    select
        'raw_leads' as table_name,
        count(*) as raw_rows
    from {{ raw_input('raw_leads', ['lead_id']) }}

    union all

    select
        'raw_lead_transitions' as table_name,
        count(*) as raw_rows
    from {{ raw_input('raw_lead_transitions', ['lead_id']) }}

),

reported as (

    select
        table_name,
        sum(row_count) as reported_rows
    from {{ ref('rpt_data_quality') }}
    group by table_name

)

select
    raw_counts.table_name,
    raw_counts.raw_rows,
    coalesce(reported.reported_rows, 0) as reported_rows
from raw_counts
left join reported
    on raw_counts.table_name = reported.table_name
where raw_counts.raw_rows != coalesce(reported.reported_rows, 0)
