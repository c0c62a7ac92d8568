-- One row per distinct raw lead row with the reason it cannot be used, if
-- any. Rows with a reason are quarantined in rejected_leads; the others are
-- the leads every mart reads.
with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

counted as (

    select
        *,
        count(*) over (partition by lead_id) as rows_of_lead
    from leads

),

final as (

    select
        lead_id,
        created_at,
        unparsed_created_at,
        lead_source,
        segment,
        owner_id,
        deal_amount_usd,
        deal_amount_text,
        source_row_count,
        case
            when lead_id is null then 'missing_lead_id'
            when rows_of_lead > 1 then 'conflicting_lead_rows'
            when unparsed_created_at is not null then 'unparseable_created_at'
            when deal_amount_text is not null and deal_amount_usd is null then 'unparseable_deal_amount'
            when deal_amount_usd < 0 then 'negative_deal_amount'
        end as rejection_reason
    from counted

)

select * from final
