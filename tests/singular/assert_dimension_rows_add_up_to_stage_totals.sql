-- For each dimension, the rows of fct_stage_conversion_by_dimension for a
-- stage add up to the stage's counts in fct_stage_conversion: every lead
-- counts under exactly one value. A row returned is a dimension and stage
-- whose cut disagrees with the total.
-- Reported in Dagster as an asset check on fct_stage_conversion_by_dimension.
{{ config(meta={'dagster': {'ref': {'name': 'fct_stage_conversion_by_dimension'}}}) }}

with

totals as (

    select * from {{ ref('fct_stage_conversion') }}

),

summed as (

    select
        dimension,
        stage_key,
        sum(leads_entered) as leads_entered,
        sum(leads_advanced) as leads_advanced,
        sum(leads_completed) as leads_completed,
        sum(leads_old) as leads_old,
        sum(leads_in_window) as leads_in_window
    from {{ ref('fct_stage_conversion_by_dimension') }}
    group by
        dimension,
        stage_key

),

dimensions as (

    select distinct dimension from {{ ref('fct_stage_conversion_by_dimension') }}

),

compared as (

    select
        dimensions.dimension,
        totals.stage_key,
        totals.leads_entered,
        coalesce(summed.leads_entered, 0) as summed_entered,
        totals.leads_advanced,
        coalesce(summed.leads_advanced, 0) as summed_advanced,
        totals.leads_completed,
        coalesce(summed.leads_completed, 0) as summed_completed,
        totals.leads_old,
        coalesce(summed.leads_old, 0) as summed_old,
        totals.leads_in_window,
        coalesce(summed.leads_in_window, 0) as summed_in_window
    from totals
    cross join dimensions
    left join summed
        on
            totals.stage_key = summed.stage_key
            and dimensions.dimension = summed.dimension

)

select *
from compared
where
    leads_entered != summed_entered
    or leads_advanced != summed_advanced
    or leads_completed != summed_completed
    or leads_old != summed_old
    or leads_in_window != summed_in_window
