-- The generic raw_lead_transitions from Salesforce's OpportunityHistory:
-- each row's stage (its API name made a stage key, as
-- base_salesforce__pipeline_stages makes it, with the prefix of the
-- opportunity's pipeline when several are read) from the row's time on.
-- History rows that only changed the amount or close date repeat the
-- stage: consecutive rows of one stage are one visit (docs/metrics.md
-- section 2). OpportunityHistory holds no record type: every row is read
-- in the opportunity's pipeline today. Deleted rows and the rows of
-- opportunities left out are counted in base_salesforce__left_out; rows
-- of an opportunity the table does not hold are kept (no prefix), and
-- quarantined like any such stage change.
with

history as (

    select * from {{ ref('base_salesforce__stage_history') }}

),

opportunities as (

    select * from {{ ref('base_salesforce__opportunities') }}

),

left_out as (

    {{ crm_left_out_deals('opportunities', 'opportunity_id') }}

),

-- Each opportunity read with its pipeline's key prefix (a repeated Id: the largest).
prefixes as (

    select
        opportunities.opportunity_id,
        max(pipelines.key_prefix) as key_prefix
    from opportunities
    inner join {{ ref('base_salesforce__pipelines') }} as pipelines
        on opportunities.pipeline_id = pipelines.pipeline_id
    where opportunities.left_out_reason is null
    group by opportunities.opportunity_id

),

final as (

    select
        'salesforce.opportunity_history' as source_file,
        history.opportunity_id as lead_id,
        coalesce(prefixes.key_prefix, '') || {{ stage_key_of('history.stage_name') }} as stage_key,
        history.changed_at as entered_at
    from history
    left join left_out
        on history.opportunity_id = left_out.deal_id
    left join prefixes
        on history.opportunity_id = prefixes.opportunity_id
    where
        not history.is_deleted
        and left_out.deal_id is null

)

select * from final
