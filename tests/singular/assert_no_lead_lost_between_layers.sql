-- No lead or visit is lost or repeated on its way to the marts: every
-- accepted lead that exists as of as_of_at has one outcome row; every
-- collapsed visit is one row of fct_lead_stage_visits; every lead's first
-- visit of an open stage is one cohort row. A row returned is a count that
-- differs (the keys themselves are each model's unique tests).
-- Reported in Dagster as an asset check on int_lead_outcomes.
{{ config(meta={'dagster': {'ref': {'name': 'int_lead_outcomes'}}}) }}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

accepted_leads as (

    select count(*) as row_count
    from {{ ref('int_leads_checked') }} as leads
    cross join as_of
    where
        leads.rejection_reason is null
        and (leads.created_at is null or leads.created_at < as_of.as_of_at)

),

lead_outcomes as (

    select count(*) as row_count
    from {{ ref('int_lead_outcomes') }}

),

collapsed_visits as (

    select count(*) as row_count
    from {{ ref('int_lead_stage_visits_collapsed') }}

),

published_visits as (

    select count(*) as row_count
    from {{ ref('fct_lead_stage_visits') }}

),

first_open_visits as (

    select count(*) as row_count
    from (
        select distinct
            lead_id,
            stage_key
        from {{ ref('int_lead_stage_visits_collapsed') }}
        where stage_type = 'open'
    ) as lead_stages

),

cohort_entries as (

    select count(*) as row_count
    from {{ ref('int_lead_stage_cohorts') }}

),

compared as (

    select
        'lead outcomes' as counted,
        accepted_leads.row_count as expected_count,
        lead_outcomes.row_count as actual_count
    from accepted_leads
    cross join lead_outcomes
    union all
    select
        'published visits' as counted,
        collapsed_visits.row_count as expected_count,
        published_visits.row_count as actual_count
    from collapsed_visits
    cross join published_visits
    union all
    select
        'cohort entries' as counted,
        first_open_visits.row_count as expected_count,
        cohort_entries.row_count as actual_count
    from first_open_visits
    cross join cohort_entries

)

select * from compared
where expected_count != actual_count
