-- No lead is lost or invented between the transitions and the visits: the
-- leads with an accepted stage change before as_of_at are exactly the leads with a
-- visit, and every configured open stage has a conversion row. A row
-- returned is a count that differs.
-- Reported in Dagster as an asset check on int_lead_stage_visits_collapsed.
{{ config(meta={'dagster': {'ref': {'name': 'int_lead_stage_visits_collapsed'}}}) }}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

leads_with_events as (

    select count(distinct transitions.lead_id) as lead_count
    from {{ ref('int_lead_transitions_checked') }} as transitions
    inner join as_of
        on transitions.entered_at < as_of.as_of_at
    where transitions.rejection_reason is null

),

leads_with_visits as (

    select count(distinct lead_id) as lead_count
    from {{ ref('int_lead_stage_visits_collapsed') }}

),

open_stages as (

    select count(*) as stage_count
    from {{ ref('dim_stages') }}
    where stage_type = 'open'

),

conversion_rows as (

    select count(*) as stage_count
    from {{ ref('fct_stage_conversion') }}

)

select
    'leads' as counted,
    leads_with_events.lead_count as expected_count,
    leads_with_visits.lead_count as actual_count
from leads_with_events
cross join leads_with_visits
where leads_with_events.lead_count != leads_with_visits.lead_count

union all

select
    'open stages' as counted,
    open_stages.stage_count as expected_count,
    conversion_rows.stage_count as actual_count
from open_stages
cross join conversion_rows
cross join as_of
where as_of.as_of_date is not null and open_stages.stage_count != conversion_rows.stage_count
