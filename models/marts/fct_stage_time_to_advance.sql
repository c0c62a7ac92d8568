-- Per open stage as of as_of_date: the guide's mean days to advance beside a
-- Kaplan-Meier estimate that also counts the visits still waiting or left
-- another way (docs/metrics.md section 12), and the expected days to convert
-- the build derived from the basis the expected_days_basis var chose.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

estimates as (

    select * from {{ ref('int_stage_time_to_advance_km') }}

),

thresholds as (

    select * from {{ ref('int_stage_thresholds_derived') }}

),

final as (

    select
        as_of.as_of_date,
        stages.pipeline_id,
        stages.pipeline_name,
        stages.stage_key,
        stages.stage_order,
        estimates.visits_observed,
        estimates.visits_advanced,
        estimates.visits_censored,
        estimates.visits_still_open,
        thresholds.avg_days_to_advance,
        estimates.km_median_days_to_advance,
        estimates.km_p75_days_to_advance,
        cast('{{ expected_days_basis() }}' as {{ dbt.type_string() }}) as expected_days_basis,
        thresholds.expected_days_to_convert
    from stages
    cross join as_of
    inner join estimates
        on stages.stage_key = estimates.stage_key
    inner join thresholds
        on stages.stage_key = thresholds.stage_key
    where as_of.as_of_date is not null

)

select * from final
