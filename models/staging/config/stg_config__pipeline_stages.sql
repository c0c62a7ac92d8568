-- The stages of the sales process, typed. A broken configuration (see
-- macros/config_checks.sql) stops the build here, before any mart, with a
-- message naming each bad row.
{%- set typed_sql %}
    select
        {{ clean_key('stage_key') }} as stage_key,
        {{ clean_text('stage_name') }} as stage_name,
        {{ try_cast(clean_text('stage_order'), dbt.type_int()) }} as stage_order,
        {{ clean_key('stage_type') }} as stage_type,
        {{ try_cast(clean_text('default_expected_days'), type_double()) }} as default_expected_days,
        {{ clean_text('stage_order') }} as stage_order_text,
        {{ clean_text('default_expected_days') }} as default_expected_days_text
    from {{ config_input('pipeline_stages') }}
{%- endset %}
{{ stop_on_config_errors('pipeline_stages', pipeline_stages_config_problems(typed_sql)) }}

with

typed as (

    {{ typed_sql }}

),

final as (

    select
        stage_key,
        stage_name,
        stage_order,
        stage_type,
        default_expected_days
    from typed

)

select * from final
