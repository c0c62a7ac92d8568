-- One row per pipeline x target month: the revenue goal each pipeline is
-- planned for (docs/metrics.md section 5). A target names its pipeline; an
-- overall target (no pipeline_id) is the goal of the one pipeline when the
-- project has one, and is not split across several (a warning says so:
-- give each pipeline its own target).
with

targets as (

    select * from {{ ref('stg_config__revenue_targets') }}

),

pipelines as (

    select distinct pipeline_id from {{ ref('int_pipeline_stages_ordered') }}

),

only_pipeline as (

    {{ only_pipeline('pipelines') }}

),

own_targets as (

    select
        targets.pipeline_id,
        targets.target_month,
        targets.revenue_target_usd,
        targets.avg_deal_size_usd
    from targets
    inner join pipelines
        on targets.pipeline_id = pipelines.pipeline_id

),

overall_targets as (

    -- A pipeline's own target for the month comes first.
    select
        only_pipeline.pipeline_id,
        targets.target_month,
        targets.revenue_target_usd,
        targets.avg_deal_size_usd
    from targets
    inner join only_pipeline
        on targets.pipeline_id is null
    left join own_targets
        on
            only_pipeline.pipeline_id = own_targets.pipeline_id
            and targets.target_month = own_targets.target_month
    where own_targets.pipeline_id is null

),

final as (

    select * from own_targets
    union all
    select * from overall_targets

)

select * from final
