{#
    Layers land in schemas of their own names (raw, config, staging,
    intermediate, marts) instead of dbt's default "<target>_<custom>", so a
    BI tool always reads marts.<mart> whatever the target schema is.

    With the var history_as_of_build (set by the daily history refresh, see
    fct_stage_conversion_daily), every model except the history tables
    builds into "<schema>_as_of" instead: the past day's metrics are computed
    there and copied into the history, and the published marts keep
    describing the latest as-of date.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {%- if var('history_as_of_build', false) and node.resource_type == 'model'
        and 'history' not in node.config.tags -%}
        {{ schema }}_as_of
    {%- else -%}
        {{ schema }}
    {%- endif -%}
{%- endmacro %}
