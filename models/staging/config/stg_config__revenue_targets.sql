-- Monthly revenue goals, typed. An empty avg_deal_size_usd means "use the
-- observed average won deal" (docs/metrics.md section 5). A month that is not the
-- first of a month, or an amount that is not above 0, stops the build here
-- with a message naming the row (macros/config_checks.sql). A target names
-- its pipeline, or is overall when pipeline_id is empty (int_pipeline_targets).
{%- set pipeline_id = clean_text('pipeline_id') if config_input_has_pipelines('revenue_targets') else 'null' %}
{%- set typed_sql %}
    select
        cast({{ pipeline_id }} as {{ dbt.type_string() }}) as pipeline_id,
        {{ try_cast(clean_text('target_month'), 'date') }} as target_month,
        {{ try_cast(clean_text('revenue_target_usd'), type_double()) }} as revenue_target_usd,
        {{ try_cast(clean_text('avg_deal_size_usd'), type_double()) }} as avg_deal_size_usd,
        {{ clean_text('target_month') }} as target_month_text,
        {{ clean_text('revenue_target_usd') }} as revenue_target_usd_text,
        {{ clean_text('avg_deal_size_usd') }} as avg_deal_size_usd_text
    from {{ config_input('revenue_targets') }}
{%- endset %}
{{ stop_on_config_errors('revenue_targets', revenue_targets_config_problems(typed_sql)) }}

with

typed as (

    {{ typed_sql }}

),

final as (

    select
        pipeline_id,
        target_month,
        revenue_target_usd,
        avg_deal_size_usd
    from typed

)

select * from final
