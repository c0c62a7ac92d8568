-- The generic raw_leads (docs/metrics.md section 1) from Pipedrive: one row
-- per deal the warehouse reads (base_pipedrive__deals), every column as
-- text. Pipedrive has no standard lead source or segment (teams keep them
-- in custom fields): both are empty.
with

deals as (

    select * from {{ ref('base_pipedrive__deals') }}

),

final as (

    select
        {{ sql_text('pipedrive.deal_changes' if crm_loader_setting() == 'export' else 'pipedrive.deals') }}
            as source_file,
        deal_id as lead_id,
        created_at,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        cast(null as {{ dbt.type_string() }}) as segment,
        owner_id,
        amount as deal_amount_usd,
        currency as deal_currency
    from deals
    where left_out_reason is null

)

select * from final
