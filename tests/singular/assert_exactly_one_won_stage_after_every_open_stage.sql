-- The configuration must have exactly one won stage, ordered after every
-- open stage, and at least one open stage: the plan works back from won
-- through the open stages. A row returned names what is wrong.
with

stages as (

    select * from {{ ref('stg_config__pipeline_stages') }}

),

summary as (

    select
        sum(case when stage_type = 'won' then 1 else 0 end) as won_stages,
        sum(case when stage_type = 'open' then 1 else 0 end) as open_stages,
        max(case when stage_type = 'won' then stage_order end) as won_order,
        max(case when stage_type = 'open' then stage_order end) as last_open_order
    from stages

)

select *
from summary
where
    won_stages != 1
    or open_stages < 1
    or won_order <= last_open_order
