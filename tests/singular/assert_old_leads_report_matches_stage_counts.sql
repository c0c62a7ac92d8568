-- rpt_old_leads lists exactly the leads fct_stage_conversion counts as old:
-- per stage, its rows add up to leads_old, and fct_lead_stage_visits flags
-- the same number of current visits as is_old. A row returned is a stage
-- where a rep's list and the dashboard disagree.
-- Reported in Dagster as an asset check on rpt_old_leads.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_old_leads'}}}) }}

with

conversion as (

    select
        stage_key,
        leads_old
    from {{ ref('fct_stage_conversion') }}

),

listed as (

    select
        stage_key,
        count(*) as listed_old
    from {{ ref('rpt_old_leads') }}
    group by stage_key

),

flagged as (

    select
        stage_key,
        count(*) as flagged_old
    from {{ ref('fct_lead_stage_visits') }}
    where is_old
    group by stage_key

),

compared as (

    select
        conversion.stage_key,
        conversion.leads_old,
        coalesce(listed.listed_old, 0) as listed_old,
        coalesce(flagged.flagged_old, 0) as flagged_old
    from conversion
    left join listed
        on conversion.stage_key = listed.stage_key
    left join flagged
        on conversion.stage_key = flagged.stage_key

)

select *
from compared
where leads_old != listed_old or leads_old != flagged_old
