-- One row per distinct stage change: exact duplicate events (same lead,
-- stage and instant) count once (spec section 2); source_row_count keeps
-- how many raw rows each stands for, so every raw row is accounted for.
-- Rows that cannot be used are kept here and quarantined downstream.
-- A table, not a view like the other staging models: the export is read
-- and parsed once, then read by the checks and the tests.
{{ config(materialized='table') }}
{%- set raw_columns = ['lead_id', 'stage_key', 'entered_at'] %}

with

source as (

    select * from {{ raw_input('raw_lead_transitions', raw_columns) }}

),

typed as (

    select
        {{ clean_text('lead_id') }} as lead_id,
        {{ clean_key('stage_key') }} as stage_key,
        {{ parse_utc_timestamp(clean_text('entered_at')) }} as entered_at,
        {{ clean_text('entered_at') }} as entered_at_text
    from source

),

final as (

    select
        lead_id,
        stage_key,
        entered_at,
        -- The text only matters when it could not be parsed.
        case when entered_at is null then entered_at_text end as unparsed_entered_at,
        count(*) as source_row_count
    from typed
    group by
        lead_id,
        stage_key,
        entered_at,
        case when entered_at is null then entered_at_text end

)

select * from final
