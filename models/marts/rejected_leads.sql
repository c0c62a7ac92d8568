-- Quarantine: raw lead rows that cannot be used, with the reason.
with

final as (

    select
        nullif(lead_id, '') as lead_id,
        created_at,
        unparsed_created_at,
        lead_source,
        segment,
        owner_id,
        deal_amount_text,
        rejection_reason,
        source_row_count
    from {{ ref('int_leads_checked') }}
    where rejection_reason is not null

)

select * from final
