-- One row per month the leads were created in x open or won stage, as of
-- as_of_date (docs/metrics.md section 11): how many of the month's leads
-- reached the stage (or skipped past it), the share that reached a won
-- stage and how many are still open, so newer cohorts can be compared with
-- older ones.
with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}
    where stage_type in ('open', 'won')

),

leads as (

    select
        lead_id,
        -- The month in the business time zone.
        cast({{ dbt.date_trunc('month', utc_to_business_time('created_at')) }} as date) as cohort_month,
        current_stage_key,
        furthest_stage_order,
        case when first_won_at is not null then 1 else 0 end as is_won_reached,
        case when current_stage_type = 'open' then 1 else 0 end as is_still_open
    from {{ ref('int_lead_outcomes') }}

),

months as (

    select
        cohort_month,
        count(*) as leads_created,
        sum(is_won_reached) as leads_won,
        sum(is_still_open) as leads_still_open
    from leads
    group by cohort_month

),

visited as (

    -- A stage without a stage_order is reached only by visiting it.
    select distinct
        lead_id,
        stage_key
    from {{ ref('int_lead_stage_visits_collapsed') }}
    where stage_order is null

),

reached as (

    select
        leads.cohort_month,
        stages.stage_key,
        case
            when leads.furthest_stage_order >= stages.stage_order or visited.lead_id is not null then 1
            else 0
        end as is_reached,
        case when leads.current_stage_key = stages.stage_key then 1 else 0 end as is_in_stage
    from leads
    cross join stages
    left join visited
        on
            leads.lead_id = visited.lead_id
            and stages.stage_key = visited.stage_key

),

counted as (

    select
        cohort_month,
        stage_key,
        sum(is_reached) as leads_reached,
        sum(is_in_stage) as leads_in_stage
    from reached
    group by
        cohort_month,
        stage_key

),

final as (

    select
        as_of.as_of_date,
        counted.cohort_month,
        counted.stage_key,
        stages.stage_order,
        stages.stage_type,
        cast(months.leads_created as {{ dbt.type_int() }}) as leads_created,
        cast(counted.leads_reached as {{ dbt.type_int() }}) as leads_reached,
        {{ ratio('counted.leads_reached', 'months.leads_created') }} as reached_share,
        cast(counted.leads_in_stage as {{ dbt.type_int() }}) as leads_in_stage,
        {{ ratio('months.leads_won', 'months.leads_created') }} as won_share,
        cast(months.leads_still_open as {{ dbt.type_int() }}) as leads_still_open
    from counted
    cross join as_of
    inner join stages
        on counted.stage_key = stages.stage_key
    inner join months
        on
            counted.cohort_month = months.cohort_month
            or counted.cohort_month is null and months.cohort_month is null
    where as_of.as_of_date is not null

)

select * from final
