-- A refresh stops when too much of an export is unusable: a row returned
-- is a raw table whose quarantined share is above the var
-- max_rejected_share (default 0.05). Any rejected row already warns
-- through the quarantine tables' tests.
-- Reported in Dagster as an asset check on rpt_data_quality.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_data_quality'}}}) }}

with

shares as (

    select
        table_name,
        {{ ratio("sum(case when outcome = 'rejected' then row_count else 0 end)", 'sum(row_count)') }}
            as rejected_share
    from {{ ref('rpt_data_quality') }}
    group by table_name

)

select *
from shares
where rejected_share > {{ pipeline_var_fraction('max_rejected_share') }}
