-- One row per month the leads were created in x open or won stage, as of
-- as_of_date (docs/metrics.md section 11): how many of the month's leads
-- reached the stage (or skipped past it), the share that reached a won
-- stage and how many are still open, so newer cohorts can be compared with
-- older ones. Per pipeline: a month's leads are those of the pipeline; a
-- lead without stage changes in a project of several pipelines is in none.
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
        pipeline_id,
        -- The month in the business time zone.
        cast({{ dbt.date_trunc('month', utc_to_business_time('created_at')) }} as date) as cohort_month,
        current_stage_key,
        furthest_stage_order,
        case when first_won_at is not null then 1 else 0 end as is_won_reached,
        case when current_stage_type = 'open' then 1 else 0 end as is_still_open
    from {{ ref('int_lead_outcomes') }}
    where pipeline_id is not null

),

months as (

    select
        pipeline_id,
        cohort_month,
        count(*) as leads_created,
        sum(is_won_reached) as leads_won,
        sum(is_still_open) as leads_still_open
    from leads
    group by pipeline_id, cohort_month

),

lead_counts as (

    -- Leads counted by how far they got and where they are now: a few
    -- rows per month, so the stages are crossed with counts, not leads.
    select
        pipeline_id,
        cohort_month,
        furthest_stage_order,
        current_stage_key,
        count(*) as leads
    from leads
    group by
        pipeline_id,
        cohort_month,
        furthest_stage_order,
        current_stage_key

),

visited as (

    -- A stage without a stage_order is reached only by visiting it.
    select distinct
        visits.lead_id,
        visits.stage_key
    from {{ ref('int_lead_stage_visits_collapsed') }} as visits
    inner join stages
        on visits.stage_key = stages.stage_key
    where stages.stage_order is null

),

month_stage_leads as (

    -- Every month with every stage (0 when no lead counts there), the
    -- leads that reached it (got as far as its stage_order, or visited it)
    -- and those in it now.
    select
        months.cohort_month,
        stages.stage_key,
        0 as leads_reached,
        0 as leads_in_stage
    from months
    inner join stages
        on months.pipeline_id = stages.pipeline_id

    union all

    select
        lead_counts.cohort_month,
        stages.stage_key,
        lead_counts.leads as leads_reached,
        0 as leads_in_stage
    from lead_counts
    inner join stages
        on
            lead_counts.pipeline_id = stages.pipeline_id
            and lead_counts.furthest_stage_order >= stages.stage_order

    union all

    select
        leads.cohort_month,
        visited.stage_key,
        1 as leads_reached,
        0 as leads_in_stage
    from visited
    inner join leads
        on visited.lead_id = leads.lead_id

    union all

    select
        cohort_month,
        current_stage_key as stage_key,
        0 as leads_reached,
        leads as leads_in_stage
    from lead_counts

),

counted as (

    select
        cohort_month,
        stage_key,
        sum(leads_reached) as leads_reached,
        sum(leads_in_stage) as leads_in_stage
    from month_stage_leads
    group by
        cohort_month,
        stage_key

),

final as (

    select
        as_of.as_of_date,
        stages.pipeline_id,
        stages.pipeline_name,
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
            stages.pipeline_id = months.pipeline_id
            and (
                counted.cohort_month = months.cohort_month
                or counted.cohort_month is null and months.cohort_month is null
            )
    where as_of.as_of_date is not null

)

select * from final
