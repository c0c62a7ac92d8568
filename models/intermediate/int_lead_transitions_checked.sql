-- One row per distinct raw stage change with the reason it cannot be used,
-- if any: exact duplicate events (same lead, stage and instant) count once
-- (docs/metrics.md section 2; source_row_count says how many raw rows each stands
-- for). Rows with a reason are quarantined in rejected_lead_transitions;
-- the others are the events visits are built from. A stage change counts
-- only for a lead that raw_leads holds and accepts, not before the lead
-- was created, and not dated after the build's start plus
-- future_tolerance_days (in_the_future). lead_id is '' on rows without one.
-- With several pipelines a lead's changes are in one: those into another
-- pipeline's stages than its earliest usable change are quarantined
-- (stage_of_another_pipeline).
-- A refresh reads only new export files and recomputes the leads with new
-- stage changes or new lead rows.
{{
    config(
        materialized=lead_refresh_materialization(),
        incremental_strategy='delete+insert',
        unique_key='lead_id',
        on_schema_change='fail',
    )
}}
{%- set export_files = ref('stg_crm__export_files') %}
{%- set event_columns = ['lead_id', 'stage_key', 'entered_at', 'unparsed_entered_at'] %}
{#- The same event, with a known stage as its rank (see ranked). -#}
{%- set dedup_columns = ['lead_id', 'event_tiebreak_rank', 'unknown_stage_key', 'entered_at', 'unparsed_entered_at'] %}

with

new_rows as (

    select
        coalesce(lead_id, '') as lead_id,
        stage_key,
        entered_at,
        unparsed_entered_at,
        1 as source_row_count
    from {{ ref('stg_crm__lead_transitions') }}
    {%- if is_incremental() %}
    where source_file in ({{ export_files_loaded_since_last_build(export_files, 'raw_lead_transitions') }})
    {%- endif %}

),

{% if is_incremental() -%}
changed_leads as (

    select lead_id from new_rows
    union
    -- Leads whose lead rows were re-checked since the last build.
    select lead_id from {{ ref('int_leads_checked') }}
    where loaded_at > {{ last_build_loaded_at() }}
    union
    -- Leads with a change that crossed the in_the_future cutoff.
    select lead_id from {{ this }}
    where {{ future_status_changed('entered_at') }}

),

kept_rows as (

    -- What earlier files brought of the same leads.
    select
        {{ event_columns | join(',\n        ') }},
        source_row_count
    from {{ this }}
    where lead_id in (select lead_id from changed_leads)

),

{% endif -%}
event_rows as (

    select * from new_rows
    {%- if is_incremental() %}
    union all
    select * from kept_rows
    {%- endif %}

),

stages as (

    select * from {{ ref('int_pipeline_stages_ordered') }}

),

ranked as (

    -- A known stage goes through the dedup as its rank (unique per stage:
    -- an integer groups faster than a text); an unknown one as its text.
    select
        event_rows.lead_id,
        stages.event_tiebreak_rank,
        case when stages.stage_key is null then event_rows.stage_key end as unknown_stage_key,
        event_rows.entered_at,
        event_rows.unparsed_entered_at,
        event_rows.source_row_count
    from event_rows
    left join stages
        on event_rows.stage_key = stages.stage_key

),

deduplicated as (

    select
        {{ dedup_columns | join(',\n        ') }},
        sum(source_row_count) as source_row_count
    from ranked
    group by
        {{ dedup_columns | join(',\n        ') }}

),

leads as (

    -- One row per lead_id: whether any of its rows is accepted, and when it
    -- was created. Rejected leads have several rows only when conflicting.
    select
        lead_id,
        max(case when rejection_reason is null then 1 else 0 end) as is_accepted,
        max(case when rejection_reason is null then created_at end) as created_at
    from {{ ref('int_leads_checked') }}
    where lead_id != ''
    {%- if is_incremental() %}
        and lead_id in (select lead_id from changed_leads)
    {%- endif %}
    group by lead_id

),

checked as (

    select
        deduplicated.lead_id,
        stages.pipeline_id,
        coalesce(stages.stage_key, deduplicated.unknown_stage_key) as stage_key,
        deduplicated.entered_at,
        deduplicated.unparsed_entered_at,
        cast(deduplicated.source_row_count as {{ dbt.type_bigint() }}) as source_row_count,
        deduplicated.event_tiebreak_rank,
        case
            when deduplicated.lead_id = '' then 'missing_lead_id'
            when deduplicated.entered_at is null then 'unparseable_entered_at'
            when deduplicated.entered_at > {{ future_cutoff() }} then 'in_the_future'
            when deduplicated.event_tiebreak_rank is null then 'unknown_stage_key'
            when leads.lead_id is null then 'unknown_lead_id'
            when leads.is_accepted = 0 then 'lead_rejected'
            when deduplicated.entered_at < leads.created_at then 'before_lead_created'
        end as rejection_reason
    from deduplicated
    left join stages
        on deduplicated.event_tiebreak_rank = stages.event_tiebreak_rank
    left join leads
        on deduplicated.lead_id = leads.lead_id

),

first_changes as (

    -- Each lead's usable changes in order (none in a project of one pipeline).
    {{ usable_changes_in_order('checked') }}

),

lead_pipelines as (

    select
        lead_id,
        pipeline_id
    from first_changes
    where change_number = 1

),

final as (

    select
        checked.lead_id,
        checked.stage_key,
        checked.entered_at,
        checked.unparsed_entered_at,
        checked.source_row_count,
        checked.event_tiebreak_rank,
        case
            when checked.rejection_reason is null and checked.pipeline_id != lead_pipelines.pipeline_id
                then 'stage_of_another_pipeline'
            else checked.rejection_reason
        end as rejection_reason,
        {{ run_loaded_at() }} as loaded_at
    from checked
    left join lead_pipelines
        on checked.lead_id = lead_pipelines.lead_id

)

select * from final
