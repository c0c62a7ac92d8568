-- The generic raw_leads (docs/metrics.md section 1) from Salesforce: one
-- row per opportunity the warehouse reads (base_salesforce__opportunities),
-- every column as text. The opportunity's type is the segment.
with

opportunities as (

    select * from {{ ref('base_salesforce__opportunities') }}

),

final as (

    select
        'salesforce.opportunity' as source_file,
        opportunity_id as lead_id,
        created_at,
        lead_source,
        opportunity_type as segment,
        owner_id,
        amount as deal_amount_usd,
        currency as deal_currency
    from opportunities
    where left_out_reason is null

)

select * from final
