-- One row per dimension (owner_id, lead_source, segment) x value x open
-- stage, as of as_of_date: fct_stage_conversion's cohort counts, rate and
-- old-lead share for the leads with that value (docs/metrics.md section 8).
-- Old means past the stage's overall expected days, so a value's rows add
-- up to the stage's totals. Every value has a row for every open stage,
-- with zero counts where none of its leads entered it: per pipeline, the
-- values of the pipeline's leads.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type = 'open'

),

thresholds as (

    select * from {{ ref('int_stage_thresholds_derived') }}

),

leads as (

    select
        lead_id,
        pipeline_id,
        {{ lead_dimensions() | join(',\n        ') }}
    from {{ ref('int_lead_outcomes') }}

),

cohort_entries as (

    select
        cohorts.lead_id,
        cohorts.stage_key,
        cohorts.is_advanced,
        cohorts.is_completed,
        coalesce(pending.is_old, false) as is_old,
        pending.lead_id is not null and not pending.is_old as is_in_window
    from {{ ref('int_lead_stage_cohorts') }} as cohorts
    left join {{ ref('int_pending_leads_aged') }} as pending
        on
            cohorts.lead_id = pending.lead_id
            and cohorts.stage_key = pending.stage_key

),

counted_leads as (

    select
        cohort_entries.stage_key,
        {{ lead_dimensions() | join(',\n        ') }},
        1 as is_entered,
        case when cohort_entries.is_advanced then 1 else 0 end as is_advanced,
        case when cohort_entries.is_completed then 1 else 0 end as is_completed,
        case when cohort_entries.is_old then 1 else 0 end as is_old,
        case when cohort_entries.is_in_window then 1 else 0 end as is_in_window
    from cohort_entries
    inner join leads
        on cohort_entries.lead_id = leads.lead_id

),

distinct_values as (

    select distinct
        pipeline_id,
        {{ lead_dimensions() | join(',\n        ') }}
    from leads

),

empty_cells as (

    -- Zero rows for every value x stage, so a stage none of a value's leads
    -- entered still has its row (added without a join on the value, which
    -- may be null).
    select
        stages.stage_key,
        distinct_values.{{ lead_dimensions() | join(',\n        distinct_values.') }},
        0 as is_entered,
        0 as is_advanced,
        0 as is_completed,
        0 as is_old,
        0 as is_in_window
    from stages
    inner join distinct_values
        on stages.pipeline_id = distinct_values.pipeline_id

),

counted as (

    -- A lead counts once per dimension, under its value.
    select
        stage_key,
        {{ grouped_dimension() }} as dimension,
        {{ grouped_dimension_value() }} as dimension_value,
        sum(is_entered) as leads_entered,
        sum(is_advanced) as leads_advanced,
        sum(is_completed) as leads_completed,
        sum(is_old) as leads_old,
        sum(is_in_window) as leads_in_window
    from (
        select * from counted_leads
        union all
        select * from empty_cells
    ) as cells
    group by {{ dimension_grouping_sets(keys=['stage_key']) }}  -- noqa: PRS

),

final as (

    select
        as_of.as_of_date,
        stages.pipeline_id,
        stages.pipeline_name,
        counted.dimension,
        counted.dimension_value,
        counted.stage_key,
        stages.stage_order,
        cast(counted.leads_entered as {{ dbt.type_int() }}) as leads_entered,
        cast(counted.leads_advanced as {{ dbt.type_int() }}) as leads_advanced,
        cast(counted.leads_completed as {{ dbt.type_int() }}) as leads_completed,
        cast(counted.leads_old as {{ dbt.type_int() }}) as leads_old,
        cast(counted.leads_in_window as {{ dbt.type_int() }}) as leads_in_window,
        {{ conversion_rate('counted.leads_advanced', 'counted.leads_completed', 'counted.leads_old') }}
            as conversion_rate,
        {{ old_lead_share('counted.leads_completed', 'counted.leads_old') }} as old_lead_share,
        thresholds.expected_days_to_convert
    from counted
    cross join as_of
    inner join stages
        on counted.stage_key = stages.stage_key
    inner join thresholds
        on counted.stage_key = thresholds.stage_key
    where as_of.as_of_date is not null

)

select * from final
