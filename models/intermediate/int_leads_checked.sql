-- One row per distinct raw lead row with the reason it cannot be used, if
-- any: exact duplicate rows count once (source_row_count says how many raw
-- rows each stands for). Rows with a reason are quarantined in
-- rejected_leads; the others are the leads every mart reads. lead_id is
-- '' on rows without one, so a refresh replaces them like a lead's rows.
-- A refresh reads only new export files and recomputes the leads in them,
-- and the leads whose created_at crossed the in_the_future cutoff.
{{
    config(
        materialized=lead_refresh_materialization(),
        incremental_strategy='delete+insert',
        unique_key='lead_id',
        on_schema_change='fail',
    )
}}
{%- set export_files = ref('stg_crm__export_files') %}
{%- set attributes = [
    'lead_id', 'created_at', 'unparsed_created_at', 'lead_source', 'segment', 'owner_id', 'deal_amount', 'deal_currency'
] %}

with

new_rows as (

    select
        coalesce(lead_id, '') as lead_id,
        {{ attributes[1:] | join(',\n        ') }},
        deal_amount_text,
        1 as source_row_count
    from {{ ref('stg_crm__leads') }}
    {%- if is_incremental() %}
    where source_file in ({{ export_files_loaded_since_last_build(export_files, 'raw_leads') }})
    {%- endif %}

),

{% if is_incremental() -%}
kept_rows as (

    -- What earlier files brought of the same leads.
    select
        {{ attributes | join(',\n        ') }},
        deal_amount_text,
        source_row_count
    from {{ this }}
    where
        lead_id in (select lead_id from new_rows)
        or lead_id in (select lead_id from {{ this }} where {{ future_status_changed('created_at') }})

),

{% endif -%}
lead_rows as (

    select * from new_rows
    {%- if is_incremental() %}
    union all
    select * from kept_rows
    {%- endif %}

),

deduplicated as {{ materialized_cte() }} (

    select
        {{ attributes | join(',\n        ') }},
        -- Texts of one amount may differ ("1000", "1000.00"); any one will do.
        max(deal_amount_text) as deal_amount_text,
        sum(source_row_count) as source_row_count
    from lead_rows
    group by
        {{ attributes | join(',\n        ') }}

),

counted as (

    select
        *,
        count(*) over (partition by lead_id) as rows_of_lead
    from deduplicated

),

final as (

    select
        {{ attributes | join(',\n        ') }},
        deal_amount_text,
        cast(source_row_count as {{ dbt.type_bigint() }}) as source_row_count,
        case
            when lead_id = '' then 'missing_lead_id'
            when rows_of_lead > 1 then 'conflicting_lead_rows'
            when unparsed_created_at is not null then 'unparseable_created_at'
            when created_at > {{ future_cutoff() }} then 'in_the_future'
            when deal_amount_text is not null and deal_amount is null then 'unparseable_deal_amount'
            when deal_amount < 0 then 'negative_deal_amount'
        end as rejection_reason,
        {{ run_loaded_at() }} as loaded_at
    from counted

)

select * from final
