-- The generic raw_leads (docs/metrics.md section 1) from HubSpot: one row
-- per deal row the warehouse reads (base_hubspot__deals), every column as
-- text. The deal type is the segment (HubSpot has no segment field).
with

deals as (

    select * from {{ ref('base_hubspot__deals') }}

),

final as (

    select
        'hubspot.deal' as source_file,
        deal_id as lead_id,
        created_at,
        lead_source,
        deal_type as segment,
        owner_id,
        amount as deal_amount_usd,
        currency as deal_currency
    from deals
    where left_out_reason is null

)

select * from final
