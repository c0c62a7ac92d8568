-- Warns for each overall revenue target (no pipeline_id) of a project with
-- several pipelines: it is not split between them, so the plan does not use
-- it (int_pipeline_targets). Give each pipeline its own row in
-- revenue_targets.csv (column pipeline_id).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_config__revenue_targets'}}}) }}

with

pipelines as (

    select count(distinct pipeline_id) as pipeline_count
    from {{ ref('int_pipeline_stages_ordered') }}

)

select
    targets.target_month,
    targets.revenue_target_usd,
    pipelines.pipeline_count
from {{ ref('stg_config__revenue_targets') }} as targets
cross join pipelines
where
    targets.pipeline_id is null
    and pipelines.pipeline_count > 1
