-- One row per distinct lead row; exact duplicate rows count once
-- (source_row_count says how many raw rows each stands for). Two rows of
-- one lead_id with different attributes fail the unique test on lead_id.
-- A table, not a view like the other staging models: the export is read
-- and parsed once, then read by the checks and the tests.
{{ config(materialized='table') }}
{%- set raw_columns = ['lead_id', 'created_at', 'lead_source', 'segment', 'owner_id', 'deal_amount_usd'] %}

with

source as (

    select * from {{ raw_input('raw_leads', raw_columns) }}

),

typed as (

    select
        {{ clean_text('lead_id') }} as lead_id,
        {{ parse_utc_timestamp(clean_text('created_at')) }} as created_at,
        {{ clean_text('created_at') }} as created_at_text,
        {{ clean_key('lead_source') }} as lead_source,
        {{ clean_key('segment') }} as segment,
        {{ clean_text('owner_id') }} as owner_id,
        {{ try_cast(clean_text('deal_amount_usd'), dbt.type_numeric()) }} as deal_amount_usd,
        {{ clean_text('deal_amount_usd') }} as deal_amount_text
    from source

),

final as (

    select
        lead_id,
        created_at,
        -- The text only matters when it could not be parsed.
        case when created_at is null then created_at_text end as unparsed_created_at,
        lead_source,
        segment,
        owner_id,
        deal_amount_usd,
        -- Texts of one amount may differ ("1000", "1000.00"); any one will do.
        max(deal_amount_text) as deal_amount_text,
        count(*) as source_row_count
    from typed
    group by
        lead_id,
        created_at,
        case when created_at is null then created_at_text end,
        lead_source,
        segment,
        owner_id,
        deal_amount_usd

)

select * from final
