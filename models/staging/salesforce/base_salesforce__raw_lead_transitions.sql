-- The generic raw_lead_transitions from Salesforce's OpportunityHistory:
-- each row's stage (its API name made a stage key, as
-- base_salesforce__pipeline_stages makes it) from the row's time on.
-- History rows that only changed the amount or close date repeat the
-- stage: consecutive rows of one stage are one visit (docs/metrics.md
-- section 2). Deleted rows and the rows of opportunities left out are
-- counted in base_salesforce__left_out; rows of an opportunity the table
-- does not hold are kept, and quarantined like any such stage change.
with

history as (

    select * from {{ ref('base_salesforce__stage_history') }}

),

left_out as (

    {{ crm_left_out_deals(ref('base_salesforce__opportunities'), 'opportunity_id') }}

),

final as (

    select
        'salesforce.opportunity_history' as source_file,
        history.opportunity_id as lead_id,
        {{ stage_key_of('history.stage_name') }} as stage_key,
        history.changed_at as entered_at
    from history
    left join left_out
        on history.opportunity_id = left_out.deal_id
    where
        not history.is_deleted
        and left_out.deal_id is null

)

select * from final
