-- One row per raw stage-change row, typed, with the file it came from.
-- Duplicates are collapsed and bad rows quarantined downstream
-- (int_lead_transitions_checked), so every raw row is here.
-- A view: the checks read it once, a refresh only the files it has not
-- read before (see macros/incremental_refresh.sql). The source is the demo
-- seed, a loader's table, or the export files the project's loader landed
-- (models/staging/crm/_crm__sources.yml).

with

source as (

    select
        {{ raw_source_file('raw_lead_transitions') }} as source_file,
        {{ raw_text_columns('raw_lead_transitions') }}
    from {{ crm_input('raw_lead_transitions') }}

),

typed as (

    select
        source_file,
        {{ clean_text('lead_id') }} as lead_id,
        {{ clean_key('stage_key') }} as stage_key,
        {{ parse_utc_timestamp(clean_text('entered_at')) }} as entered_at,
        {{ clean_text('entered_at') }} as entered_at_text
    from source

),

final as (

    select
        source_file,
        lead_id,
        stage_key,
        entered_at,
        -- The text only matters when it could not be parsed.
        case when entered_at is null then entered_at_text end as unparsed_entered_at
    from typed

)

select * from final
