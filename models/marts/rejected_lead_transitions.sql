-- Quarantine: raw stage changes that cannot be used, with the reason.
with

final as (

    select
        nullif(lead_id, '') as lead_id,
        stage_key,
        entered_at,
        unparsed_entered_at,
        rejection_reason,
        source_row_count
    from {{ ref('int_lead_transitions_checked') }}
    where rejection_reason is not null

)

select * from final
