-- One row per raw lead row, typed, with the file it came from. Duplicates
-- are collapsed and bad rows quarantined downstream (int_leads_checked),
-- so every raw row is here.
-- A view: the checks read it once, a refresh only the files it has not
-- read before (see macros/incremental_refresh.sql). The source is the demo
-- seed, a loader's table, or the export files the project's loader landed
-- (models/staging/crm/_crm__sources.yml).

with

source as (

    select
        {{ raw_source_file('raw_leads') }} as source_file,
        {{ raw_text_columns('raw_leads') }}
    from {{ crm_input('raw_leads') }}

),

typed as (

    select
        source_file,
        {{ clean_text('lead_id') }} as lead_id,
        {{ parse_utc_timestamp(clean_text('created_at')) }} as created_at,
        {{ clean_text('created_at') }} as created_at_text,
        {{ clean_key('lead_source') }} as lead_source,
        {{ clean_key('segment') }} as segment,
        {{ clean_text('owner_id') }} as owner_id,
        {{ try_cast(clean_text('deal_amount_usd'), dbt.type_numeric()) }} as deal_amount,
        {{ clean_text('deal_amount_usd') }} as deal_amount_text,
        {{ raw_lead_currency() }} as deal_currency
    from source

),

final as (

    select
        source_file,
        lead_id,
        created_at,
        -- The text only matters when it could not be parsed.
        case when created_at is null then created_at_text end as unparsed_created_at,
        lead_source,
        segment,
        owner_id,
        deal_amount,
        deal_currency,
        deal_amount_text
    from typed

)

select * from final
