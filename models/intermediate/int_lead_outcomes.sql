-- One row per accepted lead that exists as of as_of_date (created before
-- as_of_at, or without a created_at): its attributes, where it is now and
-- how far it got. The win rates, the pipeline value and the cohorts are
-- counted from here (docs/metrics.md sections 8 to 10). A lead without
-- stage changes yet has no current stage, and no pipeline unless the
-- stages form one pipeline (macros/pipelines.sql).
-- A refresh recomputes only the leads whose lead rows or visits were
-- written since its last build, and the leads the as-of date brings in.
{{
    config(
        materialized=lead_refresh_materialization(),
        incremental_strategy='delete+insert',
        unique_key='lead_id',
        on_schema_change='fail',
        post_hook="{{ drop_rows_no_lead_has('created_at') }}",
    )
}}

with

as_of as (

    select * from {{ ref('int_pipeline_as_of') }}

),

{% if is_incremental() -%}
stored as (

    -- The newest rows the stored outcomes were built from, and the as-of
    -- instant they were built with.
    {{ last_build() }}

),

changed_leads as (

    -- Leads with lead rows or visits written since the last build, and
    -- the leads the new as-of date brings in (created since the stored
    -- as-of instant); moved back, it may take visits away from any lead,
    -- so every lead is rebuilt (and the post-hook drops those it takes out).
    select checked.lead_id
    from {{ ref('int_leads_checked') }} as checked
    cross join stored
    cross join as_of
    where
        checked.loaded_at > stored.loaded_at
        or as_of.as_of_at < stored.as_of_at
        or checked.created_at >= stored.as_of_at and checked.created_at < as_of.as_of_at
    union
    select visits.lead_id
    from {{ ref('int_lead_stage_visits_collapsed') }} as visits
    cross join stored
    where visits.loaded_at > stored.loaded_at

),

{% endif -%}
leads as (

    select * from {{ ref('int_leads_checked') }}
    where rejection_reason is null
    {%- if is_incremental() %}
        and lead_id in (select lead_id from changed_leads)
    {%- endif %}

),

visits as (

    select * from {{ ref('int_lead_stage_visits_collapsed') }}
    {%- if is_incremental() %}
    where lead_id in (select lead_id from changed_leads)
    {%- endif %}

),

stages as (

    select
        stage_key,
        pipeline_id
    from {{ ref('int_pipeline_stages_ordered') }}

),

only_pipeline as (

    {{ only_pipeline('stages') }}

),

visit_summary as (

    select
        lead_id,
        -- The first visit starts at the lead's first accepted stage change.
        min(entered_at) as first_entered_at,
        min(case when stage_type = 'won' then entered_at end) as first_won_at,
        max(case when stage_type in ('open', 'won') then stage_order end) as furthest_stage_order,
        max(case when is_current_visit then stage_key end) as current_stage_key,
        max(case when is_current_visit then stage_type end) as current_stage_type
    from visits
    group by lead_id

),

final as (

    select
        leads.lead_id,
        -- A lead's stage changes are all in one pipeline
        -- (int_lead_transitions_checked quarantines the others).
        coalesce(current_stage.pipeline_id, only_pipeline.pipeline_id) as pipeline_id,
        leads.created_at,
        leads.owner_id,
        leads.lead_source,
        leads.segment,
        leads.deal_amount,
        leads.deal_currency,
        visit_summary.current_stage_key,
        visit_summary.current_stage_type,
        visit_summary.first_entered_at,
        visit_summary.first_won_at,
        visit_summary.furthest_stage_order,
        -- The cycle starts when the deal was created, else at its first
        -- stage change (changes before created_at are quarantined, so the
        -- start is never after the first change; docs/metrics.md section 9).
        case
            when visit_summary.current_stage_type = 'won'
                then {{ microseconds_between(
                    'coalesce(leads.created_at, visit_summary.first_entered_at)', 'visit_summary.first_won_at'
                ) }}
        end as sales_cycle_microseconds,
        as_of.as_of_at,
        {{ run_loaded_at() }} as loaded_at
    from leads
    cross join as_of
    left join visit_summary
        on leads.lead_id = visit_summary.lead_id
    left join stages as current_stage
        on visit_summary.current_stage_key = current_stage.stage_key
    left join only_pipeline
        on 1 = 1
    where leads.created_at is null or leads.created_at < as_of.as_of_at

)

select * from final
