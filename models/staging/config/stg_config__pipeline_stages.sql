-- The stages of the sales process, typed. A broken configuration (see
-- macros/config_checks.sql) stops the build here, before any mart, with a
-- message naming each bad row. Stages are grouped in pipelines: the CRM's
-- (adapters), or the one default pipeline (macros/pipelines.sql).
{%- set pipeline_id = clean_text('pipeline_id') if config_input_has_pipelines('pipeline_stages') else 'null' %}
{%- set pipeline_name = clean_text('pipeline_name') if config_input_has_pipelines('pipeline_stages') else 'null' %}
{%- set typed_sql %}
    select
        coalesce({{ pipeline_id }}, {{ default_pipeline_id() }}) as pipeline_id,
        cast({{ pipeline_name }} as {{ dbt.type_string() }}) as pipeline_name,
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

    -- A pipeline's one name (checked) on each of its rows: its id without one.
    select
        pipeline_id,
        coalesce(
            max(pipeline_name) over (partition by pipeline_id),
            case when pipeline_id != {{ default_pipeline_id() }} then pipeline_id end,
            {{ default_pipeline_name() }}
        ) as pipeline_name,
        stage_key,
        stage_name,
        stage_order,
        stage_type,
        default_expected_days
    from typed

)

select * from final
